import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The kernel counts process and machine CPU time in ticks of 1/100 s (USER_HZ on Linux). */
const CLK_TCK = 100;

/** User + system CPU time a process has used so far, in ms (Linux /proc); NaN when it is gone or unknown. */
export function cpuMsOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Peak resident set of a process so far, in MB (Linux /proc VmHWM); NaN when it is gone or unknown. */
export function peakRssMbOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

/** Busy and total CPU time of the whole machine (all cores) so far, in ms, to tell how much everything else took. */
export function machineCpuMs(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return { busy: ((total - idle) * 1000) / CLK_TCK, total: (total * 1000) / CLK_TCK };
}

/** The pid of the first process whose command line contains `needle` (e.g. the Kafka broker's main class), if any. */
function pidByCommandLine(needle: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(needle)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * CPU time of the named processes, plus the local Kafka broker and Redis (found by their command
 * lines: the broker that scripts/kafka.sh started for KAFKA_BROKERS' port, the redis-server of
 * REDIS_URL), this benchmark process and the whole machine, from the call to read(), in ms: where
 * the 2 cores went while the benchmark ran.
 */
export function startCpuMeter(
  root: string,
  pids: Record<string, number | undefined>,
): { add(name: string, pid: number | undefined): void; read(): Record<string, number> } {
  const brokerPort = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')[0]!.split(':')[1] ?? '9092';
  const all: Record<string, number | undefined> = {
    ...pids,
    // The broker scripts/kafka.sh started, from this checkout or another one (a git worktree shares the main checkout's).
    'kafka broker':
      pidByCommandLine(`kafka.Kafka ${join(root, `.cache/kafka/run-${brokerPort}/server.properties`)}`) ??
      pidByCommandLine(`/.cache/kafka/run-${brokerPort}/server.properties`),
    redis: pidByCommandLine(`redis-server ${new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').host}`) ?? pidByCommandLine('redis-server'),
    'bench process': process.pid,
  };
  const at = (): Record<string, number> => ({
    ...Object.fromEntries(Object.entries(all).map(([name, pid]) => [name, cpuMsOf(pid)])),
    'whole machine': machineCpuMs().busy,
  });
  const start = at();
  return {
    /** Meters a process started after the meter (e.g. a service spawned once its input is ready), from now. */
    add(name, pid) {
      all[name] = pid;
      start[name] = cpuMsOf(pid);
    },
    read() {
      const end = at();
      return Object.fromEntries(Object.keys(start).map((name) => [name, end[name]! - start[name]!]));
    },
  };
}
