import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  checksum: string;
}

const FILE_PATTERN = /^(\d{3})_([a-z0-9_]+)\.sql$/;

/** Splits a migration file into statements: `;` at the end of a line ends one; `--` lines are comments. */
export function splitStatements(sql: string): string[] {
  const lines = sql.split(/\r?\n/).filter((l) => !l.trim().startsWith('--'));
  const out: string[] = [];
  let current: string[] = [];
  for (const line of lines) {
    current.push(line);
    if (line.trimEnd().endsWith(';')) {
      const stmt = current.join('\n').trim().replace(/;$/, '').trim();
      if (stmt) out.push(stmt);
      current = [];
    }
  }
  const rest = current.join('\n').trim();
  if (rest) out.push(rest);
  return out;
}

export async function readMigrations(dir: string, database: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => FILE_PATTERN.test(f)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file)!;
    const text = await readFile(join(dir, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2]!,
      statements: splitStatements(text.replaceAll('{db}', database)),
      checksum: createHash('sha256').update(text).digest('hex').slice(0, 16),
    });
  }
  return migrations;
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`. Every statement is idempotent
 * (IF NOT EXISTS / OR REPLACE), so a crash between a statement and its record is repaired by
 * running again. Statements are sent one by one: a ClickHouse server's HTTP interface accepts one
 * statement per request, and chdb behaves the same way through the client.
 */
export async function migrate(ch: ClickHouseClient, options: { database: string; dir: string }): Promise<{ applied: number[]; skipped: number[] }> {
  const db = options.database;
  await ch.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  await ch.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const done = await ch.query({ query: `SELECT version FROM ${db}.schema_migrations FINAL`, format: 'JSONEachRow' });
  const appliedVersions = new Set((await done.json<{ version: number | string }>()).map((r) => Number(r.version)));
  const result = { applied: [] as number[], skipped: [] as number[] };
  for (const m of await readMigrations(options.dir, db)) {
    if (appliedVersions.has(m.version)) {
      result.skipped.push(m.version);
      continue;
    }
    for (const statement of m.statements) await ch.command({ query: statement });
    await ch.insert({ table: `${db}.schema_migrations`, values: [{ version: m.version, name: m.name, checksum: m.checksum }], format: 'JSONEachRow' });
    result.applied.push(m.version);
  }
  return result;
}
