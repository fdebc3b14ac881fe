/** A dependency probe: resolves when the dependency answers, rejects otherwise. */
export type ReadinessCheck = () => Promise<unknown>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

/**
 * Readiness = the service finished starting AND every dependency answers. Start-up flips
 * `markStarted()` last; shutdown flips `markStopping()` first, so load balancers drain us early.
 */
export function createReadiness(checkTimeoutMs = 2_000) {
  const checks = new Map<string, ReadinessCheck>();
  let started = false;
  let stopping = false;

  async function runCheck(check: ReadinessCheck): Promise<{ ok: boolean; error?: string }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${checkTimeoutMs} ms`)), checkTimeoutMs);
        }),
      ]);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    addCheck(name: string, check: ReadinessCheck): void {
      checks.set(name, check);
    },
    markStarted(): void {
      started = true;
    },
    markStopping(): void {
      stopping = true;
    },
    get live(): boolean {
      return !stopping;
    },
    async evaluate(): Promise<ReadinessReport> {
      const entries = await Promise.all([...checks].map(async ([name, check]) => [name, await runCheck(check)] as const));
      const report: ReadinessReport['checks'] = Object.fromEntries(entries);
      if (!started) report.startup = { ok: false, error: 'still starting' };
      if (stopping) report.shutdown = { ok: false, error: 'shutting down' };
      return { ready: started && !stopping && Object.values(report).every((c) => c.ok), checks: report };
    },
  };
}
export type Readiness = ReturnType<typeof createReadiness>;
