import type { Logger } from 'pino';

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown> | unknown;
}

/**
 * Graceful shutdown: steps are registered in start-up order and run in reverse, each in its own
 * try/catch so one failure cannot skip the rest, the whole capped by a deadline. `close()` is
 * memoised: a second signal or call waits for the first run.
 */
export function createShutdown(options: { logger: Logger; timeoutMs: number }) {
  const steps: ShutdownStep[] = [];
  let running: Promise<boolean> | undefined;

  async function runSteps(): Promise<boolean> {
    let clean = true;
    for (const step of [...steps].reverse()) {
      const startedAt = Date.now();
      try {
        await step.run();
        options.logger.info({ step: step.name, ms: Date.now() - startedAt }, 'shutdown step done');
      } catch (err) {
        clean = false;
        options.logger.error({ step: step.name, err }, 'shutdown step failed');
      }
    }
    return clean;
  }

  return {
    /** Registers a step; call in start-up order (it runs in reverse). */
    add(name: string, run: ShutdownStep['run']): void {
      steps.push({ name, run });
    },
    /** Runs every step once; resolves true when all steps finished cleanly before the deadline. */
    close(): Promise<boolean> {
      running ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => {
            options.logger.error({ timeoutMs: options.timeoutMs }, 'shutdown deadline passed');
            resolve(false);
          }, options.timeoutMs);
          timer.unref();
        });
        const clean = await Promise.race([runSteps(), deadline]);
        clearTimeout(timer);
        return clean;
      })();
      return running;
    },
  };
}
export type Shutdown = ReturnType<typeof createShutdown>;

/**
 * SIGTERM/SIGINT run the shutdown and exit (0 when clean). A programmer error (uncaught exception,
 * unhandled rejection) is logged and exits 1 after a best-effort shutdown: never carry on.
 */
export function installProcessHandlers(shutdown: Shutdown, logger: Logger): void {
  const exitAfterClose = (code: number) => {
    void shutdown.close().then((clean) => process.exit(code !== 0 ? code : clean ? 0 : 1));
  };
  process.once('SIGTERM', () => {
    logger.info({ signal: 'SIGTERM' }, 'shutting down');
    exitAfterClose(0);
  });
  process.once('SIGINT', () => {
    logger.info({ signal: 'SIGINT' }, 'shutting down');
    exitAfterClose(0);
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    exitAfterClose(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    exitAfterClose(1);
  });
}
