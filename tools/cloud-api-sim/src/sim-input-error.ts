/** Bad input to a `/_sim/` control call (400), naming the field. */
export class SimInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
