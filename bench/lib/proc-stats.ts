import { readdirSync, readFileSync } from 'node:fs';

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
export function pidByCommandLine(needle: string): number | undefined {
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
