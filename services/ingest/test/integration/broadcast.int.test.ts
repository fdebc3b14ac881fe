import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@wa/shared/testing';
import { jobIdFor } from '../../src/domain/job-id';
import { Harness, request } from './harness';

/** Writes an NDJSON audience: `unique` valid people, then duplicates (some in another spelling) and invalid lines mixed in. */
function writeAudience(file: string, unique: number, duplicates: number, invalid: number): { expected: Set<string>; invalidCount: number; lines: number } {
  const lines: string[] = [];
  const expected = new Set<string>();
  for (let i = 0; i < unique; i++) {
    const waId = `49151${String(10_000_000 + i)}`;
    expected.add(waId);
    lines.push(JSON.stringify({ to: `+${waId}`, bodyParams: [`O-${i}`, 'shipped'] }));
    if (i % Math.floor(unique / duplicates) === 0 && lines.length < unique + duplicates + invalid) {
      lines.push(JSON.stringify(i % 2 === 0 ? `00${waId}` : { to: `+49 151 ${String(10_000_000 + i)}`, bodyParams: ['again', 'x'] }));
    }
    if (i % Math.floor(unique / invalid) === 1) lines.push(i % 3 === 0 ? '{"to": "+49 123"}' : i % 3 === 1 ? 'not json at all' : '"+999999"');
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { expected, invalidCount: lines.length - unique - [...lines].filter((l) => l.startsWith('"00') || l.includes('again')).length, lines: lines.length };
}

describe('broadcast expansion', () => {
  const h = new Harness();

  beforeAll(async () => {
    await h.setup({ partitions: 3 });
    await h.collect();
  });
  afterAll(() => h.teardown());

  it('expands a 100,000-line audience with duplicates and invalid numbers into exactly the right set of dispatch jobs', async () => {
    const { expected, invalidCount, lines } = writeAudience(join(h.audienceRoot, 'big.ndjson'), 95_000, 3_000, 2_000);
    expect(lines).toBeGreaterThan(100_000);
    const key = 'broadcast-100k';
    await h.startService({ EXPANSION_CHUNK_SIZE: '5000' });
    await h.send([request({ idempotencyKey: key, to: undefined, audience: { path: 'big.ndjson', format: 'ndjson' }, campaignId: 'c-100k' })]);

    await waitFor(() => h.jobs.length >= expected.size && h.dlq.length >= invalidCount, { timeoutMs: 90_000, description: 'all jobs and DLQ records' });
    // Give stragglers a moment to show up if the service produced too many.
    await new Promise((r) => setTimeout(r, 500));
    expect(h.jobs.length).toBe(expected.size);
    const tos = new Set(h.jobs.map((j) => j.to));
    expect(tos).toEqual(expected);
    expect(new Set(h.jobs.map((j) => j.jobId)).size).toBe(expected.size);
    for (const j of h.jobs.slice(0, 100)) expect(j.jobId).toBe(jobIdFor(key, j.to));
    const first = h.jobs.find((j) => j.to === '4915110000000')!;
    expect(first.message.type === 'template' && first.message.template.bodyParams).toEqual(['O-0', 'shipped']);
    expect(h.dlq.length).toBe(invalidCount);
    expect(h.dlq.every((d) => d.reason === 'invalid_recipient' && d.source.kind === 'expansion' && d.requestKey === key)).toBe(true);
    // Keyed by recipient on the utility lane.
    expect(new Set(h.jobTopics)).toEqual(new Set([h.topic({ name: 'wa.dispatch.jobs.utility' })]));
    const metrics = await h.services[0]!.registry.metrics();
    expect(metrics).toContain(`wa_ingest_expanded_recipients_total{svc="ingest"} ${lines}`);
    expect(metrics).toContain(`wa_ingest_duplicates_total{kind="recipient",svc="ingest"} ${lines - expected.size - invalidCount}`);
    expect(metrics).toMatch(/wa_ingest_audience_progress_ratio\{svc="ingest"\} 1/);
  });

  it('resumes an interrupted expansion after a restart without emitting anyone under a second job id', async () => {
    for (const s of h.services) await s.close();
    h.jobs.length = 0;
    h.dlq.length = 0;
    const { expected } = writeAudience(join(h.audienceRoot, 'resume.ndjson'), 40_000, 1_000, 500);
    const key = 'broadcast-resume';
    const first = await h.startService({ EXPANSION_CHUNK_SIZE: '1000' });
    await h.send([request({ idempotencyKey: key, to: undefined, audience: { path: 'resume.ndjson', format: 'ndjson' } })]);
    await waitFor(async () => Number(await h.redis.hget(`${h.redisPrefix}ingest:progress:${key}`, 'next')) >= 5_000, {
      timeoutMs: 30_000,
      description: 'a checkpoint',
    });
    await first.close();
    const stoppedAt = Number(await h.redis.hget(`${h.redisPrefix}ingest:progress:${key}`, 'next'));
    expect(stoppedAt).toBeLessThan(40_000);
    const beforeRestart = h.jobs.length;

    await h.startService({ EXPANSION_CHUNK_SIZE: '1000' });
    await waitFor(async () => (await h.redis.hget(`${h.redisPrefix}ingest:progress:${key}`, 'done')) === '1', {
      timeoutMs: 60_000,
      description: 'expansion done',
    });
    await waitFor(() => new Set(h.jobs.map((j) => j.to)).size === expected.size, { timeoutMs: 20_000, description: 'every recipient' });

    expect(new Set(h.jobs.map((j) => j.to))).toEqual(expected);
    // A replayed chunk may be produced again, but always under the same job id (the dispatcher's ledger drops it).
    const idsByTo = new Map<string, Set<string>>();
    for (const j of h.jobs) idsByTo.set(j.to, (idsByTo.get(j.to) ?? new Set()).add(j.jobId));
    expect([...idsByTo.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(h.jobs.length - expected.size).toBeLessThanOrEqual(1_000);
    expect(beforeRestart).toBeGreaterThan(0);
  });
});
