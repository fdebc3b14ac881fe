import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool } from 'undici';

/** One prepared POST: computed before the clock starts, so the load process spends its CPU on sending. */
export interface PreparedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The whole request as the raw client writes it (head + body), filled by `prepare`. */
  bytes?: Buffer;
}

/**
 * How requests reach a server. `send` issues one request at once (or queues it FIFO behind the
 * busy connections — the wait counts, latency is from the due time) and calls `done` with the HTTP
 * status (0 = transport error) once the whole response has arrived.
 */
export interface LoadClient {
  readonly name: string;
  readonly connections: number;
  /** Called while preparing (before the clock starts): precompute whatever the client sends. */
  prepare(req: PreparedRequest): PreparedRequest;
  send(req: PreparedRequest, done: (status: number) => void): void;
  close(): Promise<void>;
}

export function undiciClient(base: string, connections: number): LoadClient {
  const pool = new Pool(base, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  return {
    name: `undici Pool (${connections} keep-alive connections, no pipelining)`,
    connections,
    prepare: (req) => req,
    send({ path, headers, body }, done) {
      pool.request({ path, method: 'POST', headers, body }).then(
        async (res) => {
          await res.body.dump();
          done(res.statusCode);
        },
        () => done(0),
      );
    },
    close: () => pool.close(),
  };
}

/**
 * A minimal HTTP/1.1 keep-alive client (like wrk): each request is one precomputed buffer written
 * to an idle connection, each connection has at most one request outstanding (no pipelining), and
 * a response is complete once its headers and `content-length` bytes have arrived. It spends far
 * less CPU per request than undici's promise/stream machinery, which matters because the load
 * generator shares the two cores with the server and the broker — it changes nothing about what
 * is measured (due time → last byte of the response).
 */
export function rawClient(base: string, connections: number): LoadClient {
  const { hostname, port } = new URL(base);
  const head = (req: PreparedRequest) =>
    `POST ${req.path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\n${Object.entries(req.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}content-length: ${Buffer.byteLength(req.body)}\r\n\r\n`;
  interface Conn {
    socket: net.Socket;
    done: ((status: number) => void) | undefined;
    buf: Buffer | undefined;
  }
  const idle: Conn[] = [];
  const waiting: { bytes: Buffer; done: (status: number) => void }[] = [];
  let waitingHead = 0;
  let closing = false;
  const all = new Set<Conn>();

  const next = (conn: Conn) => {
    if (waitingHead < waiting.length) {
      const w = waiting[waitingHead]!;
      waiting[waitingHead++] = undefined as never;
      if (waitingHead > 4096 && waitingHead * 2 > waiting.length) {
        waiting.splice(0, waitingHead);
        waitingHead = 0;
      }
      conn.done = w.done;
      conn.socket.write(w.bytes);
    } else {
      idle.push(conn);
    }
  };
  const open = (): Conn => {
    const socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
    const conn: Conn = { socket, done: undefined, buf: undefined };
    all.add(conn);
    socket.on('data', (chunk: Buffer) => {
      let buf = conn.buf === undefined ? chunk : Buffer.concat([conn.buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) break;
        const headers = buf.toString('latin1', 0, end);
        const status = Number(headers.slice(9, 12));
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
        if (cl === null) throw new Error(`response without content-length: ${headers}`);
        const total = end + 4 + Number(cl[1]);
        if (buf.length < total) break;
        buf = buf.subarray(total);
        const done = conn.done;
        conn.done = undefined;
        // Free the connection before the callback, so a closed loop's next request can take it.
        next(conn);
        done?.(status);
      }
      conn.buf = buf.length === 0 ? undefined : buf;
    });
    const lost = () => {
      all.delete(conn);
      const i = idle.indexOf(conn);
      if (i >= 0) idle.splice(i, 1);
      const done = conn.done;
      conn.done = undefined;
      done?.(0);
      if (!closing) next(open());
    };
    socket.on('error', () => undefined);
    socket.on('close', lost);
    return conn;
  };
  for (let i = 0; i < connections; i += 1) idle.push(open());
  return {
    name: `raw keep-alive sockets (${connections} connections, no pipelining, precomputed request bytes)`,
    connections,
    prepare: (req) => ({ ...req, bytes: Buffer.from(head(req) + req.body) }),
    send(req, done) {
      const bytes = req.bytes!;
      const conn = idle.pop();
      if (conn === undefined) {
        waiting.push({ bytes, done });
        return;
      }
      conn.done = done;
      conn.socket.write(bytes);
    },
    async close() {
      closing = true;
      await Promise.all([...all].map((c) => new Promise<void>((r) => c.socket.end(() => r()))));
    },
  };
}

export interface ClosedLoopResult {
  durationS: number;
  requests: number;
  ok: number;
  failed: number;
  requestsPerSecond: number;
  /** Each request's latency (send → last byte of the response), ms. */
  latenciesMs: Float64Array;
}

/**
 * Closed loop (like wrk): every connection sends its next request as soon as the previous one is
 * answered, cycling through `requests`, for `durationS`. Measures the most a server answers with
 * that many clients; latency runs from each request's send.
 */
export async function runClosedLoop(client: LoadClient, requests: readonly PreparedRequest[], durationS: number): Promise<ClosedLoopResult> {
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let ok = 0;
  let next = 0;
  let active = 0;
  const start = performance.now();
  const stopAt = start + durationS * 1000;
  let finishedAt = start;
  await new Promise<void>((resolve) => {
    const fire = () => {
      const req = requests[next]!;
      next = next + 1 === requests.length ? 0 : next + 1;
      const sentAt = performance.now();
      active += 1;
      client.send(req, (status) => {
        const now = performance.now();
        active -= 1;
        if (count === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[count++] = now - sentAt;
        if (status >= 200 && status < 300) ok += 1;
        if (now < stopAt) fire();
        else if (active === 0) {
          finishedAt = now;
          resolve();
        }
      });
    };
    for (let i = 0; i < client.connections; i += 1) fire();
  });
  const durationSActual = (finishedAt - start) / 1000;
  return {
    durationS: durationSActual,
    requests: count,
    ok,
    failed: count - ok,
    requestsPerSecond: Math.round(ok / durationSActual),
    latenciesMs: latencies.subarray(0, count),
  };
}

export interface OpenLoopResult {
  ok: number;
  non2xx: number;
  errors: number;
  elapsedS: number;
  /** Request i's latency from its due time, ms (index = order of sending). */
  latenciesMs: Float64Array;
  /** The load process's own event-loop delay: if high, part of the latency is the client's, not the server's. */
  clientLoopDelayP99Ms: number;
  clientLoopDelayMaxMs: number;
}

/**
 * Open loop at a fixed rate: request i is due at `start + i / rate` and is sent then whatever is in
 * flight; its latency runs from that due time (not from when the client got round to sending it),
 * so a stalled server cannot hide its queueing (coordinated omission).
 */
export async function runOpenLoop(client: LoadClient, requests: PreparedRequest[], rate: number): Promise<OpenLoopResult> {
  const total = requests.length;
  const latencies = new Float64Array(total);
  let done = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const intervalMs = 1000 / rate;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const start = performance.now();
  let issued = 0;
  let finishedAt = start;
  await new Promise<void>((resolve) => {
    const fire = (i: number) => {
      const req = requests[i]!;
      requests[i] = undefined as never;
      const scheduled = start + i * intervalMs;
      client.send(req, (status) => {
        latencies[i] = performance.now() - scheduled;
        if (status >= 200 && status < 300) ok += 1;
        else if (status === 0) errors += 1;
        else non2xx += 1;
        done += 1;
        if (done === total) {
          finishedAt = performance.now();
          resolve();
        }
      });
    };
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (issued < due) fire(issued++);
      if (issued < total) setTimeout(tick, 1);
    };
    tick();
  });
  loopDelay.disable();
  return {
    ok,
    non2xx,
    errors,
    elapsedS: (finishedAt - start) / 1000,
    latenciesMs: latencies,
    clientLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    clientLoopDelayMaxMs: loopDelay.max / 1e6,
  };
}
