import { spawnSync } from 'node:child_process';

export type PriorityResult = { raised: true } | { raised: false; reason: string };

/**
 * Gives a running simulator process real-time scheduling (SCHED_FIFO at the lowest real-time
 * priority, every thread), so it runs as soon as a request reaches its socket.
 *
 * Why: the simulator stands in for Meta, whose servers do not share our CPUs, and it counts a number's
 * throughput by the time its event loop handles each request. On a machine it shares with the
 * dispatchers, Kafka and Redis, that loop runs late (arrival stamps up to 37–48 ms late at p99 in
 * bench:dispatch, 2026-12-02), and a stamp delayed at the start of a sliding second puts the following
 * second's requests in the same window: 130429s that Meta would not send, three numbers throttled in
 * the same millisecond. Needs root or CAP_SYS_NICE; `SIM_REALTIME=0` leaves the process as it is.
 */
export function raiseToRealtime(pid: number, env: NodeJS.ProcessEnv = process.env): PriorityResult {
  if (env.SIM_REALTIME === '0') return { raised: false, reason: 'SIM_REALTIME=0' };
  const res = spawnSync('chrt', ['--all-tasks', '--fifo', '--pid', '1', String(pid)], { encoding: 'utf8' });
  if (res.error) return { raised: false, reason: `chrt: ${res.error.message}` };
  if (res.status !== 0) return { raised: false, reason: (res.stderr || `chrt exited with ${res.status}`).trim() };
  return { raised: true };
}
