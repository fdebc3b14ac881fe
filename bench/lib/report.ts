import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { coreSpeedMicros } from './core-speed';

/** Nearest-rank percentile of unsorted values; null when there are none. */
export function percentile(values: ArrayLike<number>, p: number): number | null {
  if (values.length === 0) return null;
  const sorted = Array.from(values).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface BenchRow {
  metric: string;
  value: string | number | null;
  target?: string;
  ok?: boolean | null;
}

/** Prints the benchmark table: metric, value, target and whether the target is met. */
export function printTable(title: string, rows: readonly BenchRow[]): void {
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v));
  const width = Math.max(...rows.map((r) => r.metric.length), 6);
  const valueWidth = Math.max(...rows.map((r) => cell(r.value).length), 5);
  console.log(`\n${title}`);
  console.log(`${'metric'.padEnd(width)}  ${'value'.padStart(valueWidth)}  target         met`);
  console.log(`${'-'.repeat(width)}  ${'-'.repeat(valueWidth)}  -------------  ---`);
  for (const r of rows) {
    const met = r.ok === undefined || r.ok === null ? '' : r.ok ? 'yes' : 'NO';
    console.log(`${r.metric.padEnd(width)}  ${cell(r.value).padStart(valueWidth)}  ${(r.target ?? '').padEnd(13)}  ${met}`);
  }
}

/**
 * Writes `bench/reports/<name>.json` with the machine's facts beside the figures: cores, Node and the speed
 * of a core (`coreSpeedMicros`, the bench:phone reading that CPU per unit of work scales by).
 */
export function writeReport(name: string, report: Record<string, unknown>): string {
  const path = resolve(import.meta.dirname, '..', 'reports', `${name}.json`);
  mkdirSync(dirname(path), { recursive: true });
  const os = { cpus: cpus().length, node: process.version, coreSpeedMicros: coreSpeedMicros() };
  writeFileSync(path, `${JSON.stringify({ benchmark: name, generatedAt: new Date().toISOString(), machine: os, ...report }, null, 2)}\n`);
  console.log(`\nreport: ${path}`);
  return path;
}
