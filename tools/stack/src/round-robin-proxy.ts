import { createServer, request, type IncomingMessage, type Server } from 'node:http';

export interface RoundRobinProxy {
  port: number;
  /** Requests forwarded per target port. */
  forwarded: Map<number, number>;
  close(): Promise<void>;
}

/**
 * A minimal HTTP load balancer for drills: each request goes to the next target in turn; a target
 * that refuses the connection is skipped for that request (as an ingress skips a pod that is down).
 * The body is buffered so a request can be replayed on the next target. 502 when none answers.
 */
export async function startRoundRobinProxy(targets: readonly number[], options: { port?: number; maxBodyBytes?: number } = {}): Promise<RoundRobinProxy> {
  const forwarded = new Map<number, number>(targets.map((t) => [t, 0]));
  const maxBody = options.maxBodyBytes ?? 4 * 1_048_576;
  let next = 0;

  const forward = (req: IncomingMessage, body: Buffer, target: number) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const out = request(
        { host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: { ...req.headers, 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) req.destroy();
      else chunks.push(c);
    });
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const start = next++ % targets.length;
      for (let i = 0; i < targets.length; i++) {
        const target = targets[(start + i) % targets.length]!;
        try {
          const answer = await forward(req, body, target);
          forwarded.set(target, (forwarded.get(target) ?? 0) + 1);
          res.writeHead(answer.status, { 'content-type': answer.headers['content-type'] ?? 'text/plain' });
          res.end(answer.body);
          return;
        } catch {
          // Connection refused or reset: the next target gets the request.
        }
      }
      res.writeHead(502).end('no target answered');
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    forwarded,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
