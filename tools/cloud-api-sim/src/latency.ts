import type { Rng } from './rng';
import type { LatencyConfig } from './scenario';

/** Samples the configured response latency (real milliseconds, not sim-time). */
export function createLatencySampler(cfg: LatencyConfig, rng: Rng): () => number {
  switch (cfg.kind) {
    case 'none':
      return () => 0;
    case 'fixed':
      return () => cfg.ms;
    case 'uniform':
      return () => rng.between(cfg.minMs, Math.max(cfg.minMs, cfg.maxMs));
    case 'lognormal': {
      // p99 of a log-normal is median · e^(2.326σ).
      const sigma = Math.log(Math.max(cfg.p99Ms, cfg.medianMs) / cfg.medianMs) / 2.326;
      return () => {
        const u1 = Math.max(rng.next(), 1e-12);
        const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng.next());
        return cfg.medianMs * Math.exp(sigma * z);
      };
    }
  }
}
