import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { requireTool, TOOLS } from '@wa/shared/required-tools';
import { waitFor } from '@wa/shared/testing';
import { raiseToRealtime } from '../src/realtime-priority';

/** The scheduling policy of every thread of a process, as `chrt --pid` reports it (e.g. "SCHED_OTHER"). */
function policiesOf(pid: number): string[] {
  const out = spawnSync('chrt', ['--all-tasks', '--pid', String(pid)], { encoding: 'utf8' }).stdout;
  return [...out.matchAll(/scheduling policy: (\S+)/g)].map((m) => m[1]!);
}

// chrt is util-linux's (present on any Linux); elsewhere these tests skip and npm test says why.
const chrt = requireTool(TOOLS.chrt);

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

/** A started node process: several threads (V8 platform workers), every one of which must be raised. */
async function spawnIdleNode(): Promise<number> {
  child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const pid = child.pid!;
  await waitFor(() => policiesOf(pid).length > 1, { timeoutMs: 10_000, description: 'node started its threads' });
  return pid;
}

describe('raiseToRealtime', chrt.options, () => {
  it('gives every thread SCHED_FIFO where permitted, and otherwise says why and changes nothing', async () => {
    const pid = await spawnIdleNode();
    expect(policiesOf(pid).every((p) => p === 'SCHED_OTHER')).toBe(true);
    const result = raiseToRealtime(pid, {});
    const policies = policiesOf(pid);
    expect(policies.length).toBeGreaterThan(1);
    if (result.raised) {
      expect(policies.every((p) => p === 'SCHED_FIFO')).toBe(true);
    } else {
      // Without root / CAP_SYS_NICE: the reason is chrt's own message, and the process is as it was.
      expect(result.reason).toMatch(/chrt|permitted/i);
      expect(policies.every((p) => p === 'SCHED_OTHER')).toBe(true);
    }
  });

  it('leaves the process as it is with SIM_REALTIME=0', async () => {
    const pid = await spawnIdleNode();
    expect(raiseToRealtime(pid, { SIM_REALTIME: '0' })).toEqual({ raised: false, reason: 'SIM_REALTIME=0' });
    expect(policiesOf(pid).every((p) => p === 'SCHED_OTHER')).toBe(true);
  });

  it('reports a process that does not exist', () => {
    const result = raiseToRealtime(2 ** 22 + 12_345, {});
    expect(result.raised).toBe(false);
  });
});
