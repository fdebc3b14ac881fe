import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { imageNodeArgs } from './deployed-node-options';

export interface ProcessSpec {
  name: string;
  /** Entry point run with tsx, relative to the repository root. */
  entry: string;
  env: Record<string, string>;
  /** Polled until it answers 200; the process counts as started then. */
  readyUrl: string;
}

export interface ManagedProcess {
  spec: ProcessSpec;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

/**
 * Starts a TypeScript entry point as a child process with tsx, its JSON logs going to
 * `<logDir>/<name>.log`, so the terminal stays free for the progress display.
 */
export function startProcess(root: string, logDir: string, spec: ProcessSpec, baseEnv: NodeJS.ProcessEnv): ManagedProcess {
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${spec.name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [...imageNodeArgs(root, baseEnv), '--import', 'tsx', join(root, spec.entry)], {
    cwd: root,
    env: { ...baseEnv, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      log.end();
      resolve(code);
    });
  });
  return { spec, child, logFile, exited };
}

/** Waits until the URL answers 200, the process dies, or the timeout passes. */
export async function waitReady(proc: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void proc.exited.then(() => (dead = true));
  let last = '';
  while (Date.now() < deadline) {
    if (dead) throw new Error(`${proc.spec.name} exited during start-up; see ${proc.logFile}`);
    try {
      const res = await fetch(proc.spec.readyUrl, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${proc.spec.name} not ready after ${timeoutMs} ms (${last}); see ${proc.logFile}`);
}

/** SIGTERM, then SIGKILL after the grace period; resolves with the exit code. */
export async function stopProcess(proc: ManagedProcess, graceMs: number): Promise<number | null> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.child.exitCode;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return code;
}

/** Runs a command to completion, inheriting nothing but the environment; rejects on non-zero exit. */
export function runCommand(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; quiet?: boolean }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output.slice(-2000)}`))));
  });
}
