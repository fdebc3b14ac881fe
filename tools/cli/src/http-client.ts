/** A JSON-over-HTTP call: the status and the parsed body (text when not JSON); transport failures become one readable error. */
export async function requestJson(
  method: 'GET' | 'POST',
  url: string,
  options: { token?: string | undefined; body?: unknown; timeoutMs?: number } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
  } catch (err) {
    throw new Error(
      `cannot reach ${new URL(url).origin}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
      { cause: err },
    );
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: keep the text for the error message.
  }
  return { status: response.status, body };
}

/** The message of an error body in either shape the services answer with ({error: {code, message}} or {error, detail}). */
export function errorMessage(body: unknown): string {
  if (typeof body === 'string') return body;
  const b = body as { error?: unknown; detail?: unknown } | null;
  if (b && typeof b.error === 'object' && b.error !== null && 'message' in b.error) return String((b.error as { message: unknown }).message);
  if (b && typeof b.detail === 'string') return b.detail;
  return JSON.stringify(body);
}

/** A small JSON-over-HTTP call that turns transport and HTTP failures into one readable error. */
export async function callJson(method: 'GET' | 'POST', url: string, options: { token?: string | undefined; body?: unknown } = {}): Promise<unknown> {
  const { status, body } = await requestJson(method, url, options);
  if (status < 200 || status >= 300)
    throw new Error(`${method} ${new URL(url).pathname} answered ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  return body;
}
