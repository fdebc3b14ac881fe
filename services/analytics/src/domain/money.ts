/**
 * Money is counted in integer micro-dollars (1 USD = 1,000,000) so that sums are exact: binary
 * floats cannot represent 0.0125, and finance reconciles to the cent against Meta's invoice.
 */
export const MICROS_PER_USD = 1_000_000;

/** Parses a decimal USD string ("0.0625", "1", ".5") into micro-dollars exactly; rejects more than 6 decimals. */
export function parseUsdToMicros(text: string): number {
  const trimmed = text.trim();
  const match = /^(\d*)(?:\.(\d*))?$/.exec(trimmed);
  if (!match || trimmed === '' || trimmed === '.') throw new RangeError(`not a non-negative decimal USD amount: ${JSON.stringify(text)}`);
  const whole = match[1] ?? '';
  const frac = match[2] ?? '';
  if (frac.length > 6) throw new RangeError(`USD amount has more than 6 decimals (sub-micro-dollar): ${JSON.stringify(text)}`);
  const micros = Number(whole || '0') * MICROS_PER_USD + Number(frac.padEnd(6, '0') || '0');
  if (!Number.isSafeInteger(micros)) throw new RangeError(`USD amount too large: ${JSON.stringify(text)}`);
  return micros;
}

/** Formats micro-dollars as a USD decimal string with 6 places ("0.062500"). */
export function formatMicros(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS_PER_USD);
  const frac = String(abs % MICROS_PER_USD).padStart(6, '0');
  return `${sign}${whole}.${frac}`;
}
