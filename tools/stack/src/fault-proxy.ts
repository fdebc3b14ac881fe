import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy the fault drills can cut: while cut, live connections are reset and new ones are
 * accepted and reset at once, as a network partition looks to a client. Used in front of the
 * broker's fault-injection listener, whose advertised address is this proxy, so every connection
 * a client opens after bootstrap still goes through it.
 */
export interface FaultProxy {
  port: number;
  cut(): void;
  restore(): void;
  readonly isCut: boolean;
  close(): Promise<void>;
}

export async function startFaultProxy(options: { listenPort: number; targetHost: string; targetPort: number }): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(options.targetPort, options.targetHost);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort, '127.0.0.1', () => resolve());
  });
  return {
    port: options.listenPort,
    cut() {
      cut = true;
      for (const socket of sockets) socket.resetAndDestroy();
      sockets.clear();
    },
    restore() {
      cut = false;
    },
    get isCut() {
      return cut;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
