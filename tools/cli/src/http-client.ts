/** A small JSON-over-HTTP call that turns transport and HTTP failures into one readable error. */
export async function callJson(method: 'GET' | 'POST', url: string, options: { token?: string | undefined; body?: unknown } = {}): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body: options.body === undefined ? null : JSON.stringify(options.body), signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new Error(`cannot reach ${new URL(url).origin}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, { cause: err });
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: keep the text for the error message.
  }
  if (!response.ok) throw new Error(`${method} ${new URL(url).pathname} answered ${response.status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
  return body;
}
