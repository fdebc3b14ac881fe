import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@wa/shared/testing';
import { Harness, request } from './harness';

const OTP = {
  name: 'otp_code',
  language: 'en_US',
  category: 'authentication',
  bodyParams: ['123456'],
  buttonParams: [{ index: 0, subType: 'url', text: '123456' }],
};
const SALE = { name: 'spring_sale', language: 'en_US', category: 'marketing', headerParams: ['Spring'], bodyParams: ['20%'] };
const auth = { 'x-api-token': 'test-token', 'content-type': 'application/json' };

describe('ingest flows against Kafka and Redis', () => {
  const h = new Harness();

  beforeAll(async () => {
    await h.setup({ partitions: 2 });
    await h.collect();
  });
  afterAll(() => h.teardown());

  it('accepts an idempotency key once, across a service restart, from both front doors', async () => {
    const first = await h.startService();
    const job = request({ idempotencyKey: 'idem-1', to: '+4915112340001' });
    await h.send([job], 'idem-1');
    await waitFor(() => h.jobs.some((j) => j.requestKey === 'idem-1'), { description: 'first job' });
    await first.close();

    const second = await h.startService();
    await h.send([job], 'idem-1');
    const res = await second.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: job });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ jobs: [{ idempotencyKey: 'idem-1', status: 'duplicate', recipients: 1 }] });
    await waitFor(async () => (await second.registry.metrics()).includes('wa_ingest_duplicates_total{kind="request",svc="ingest"} 1'), {
      description: 'kafka duplicate seen',
    });
    expect(h.jobs.filter((j) => j.requestKey === 'idem-1')).toHaveLength(1);
  });

  it('HTTP: 202 enqueues through the pipeline, 400 names every field error, 401 without token, 413 over the limit', async () => {
    const svc = h.services.at(-1)!;
    const ok = await svc.app.inject({
      method: 'POST',
      url: '/v1/notifications',
      headers: { authorization: 'Bearer test-token' },
      payload: request({ idempotencyKey: 'http-1', to: undefined, recipients: ['+4915112340002', '+4915112340003'] }),
    });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toEqual({ jobs: [{ idempotencyKey: 'http-1', status: 'accepted', recipients: 2 }] });
    await waitFor(() => h.jobs.filter((j) => j.requestKey === 'http-1').length === 2, { description: 'HTTP jobs dispatched' });

    const bad = await svc.app.inject({
      method: 'POST',
      url: '/v1/notifications:batch',
      headers: auth,
      payload: {
        jobs: [
          request({ idempotencyKey: 'b-ok' }),
          { v: 2, sender: {}, priority: 'urgent' },
          request({ template: { name: 'nope', language: 'en_US', category: 'utility' } }),
        ],
      },
    });
    expect(bad.statusCode).toBe(400);
    const paths = (bad.json().issues as { path: string }[]).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['jobs.1.v', 'jobs.1.idempotencyKey', 'jobs.1.sender', 'jobs.1.priority', 'jobs.2.template']));
    expect(h.jobs.some((j) => j.requestKey === 'b-ok')).toBe(false);

    const batch = await svc.app.inject({
      method: 'POST',
      url: '/v1/notifications:batch',
      headers: auth,
      payload: { jobs: [request({ idempotencyKey: 'b-1' }), request({ idempotencyKey: 'http-1' })] },
    });
    expect(batch.statusCode).toBe(202);
    expect(batch.json().jobs.map((j: { status: string }) => j.status)).toEqual(['accepted', 'duplicate']);

    expect((await svc.app.inject({ method: 'POST', url: '/v1/notifications', payload: request() })).statusCode).toBe(401);
    expect((await svc.app.inject({ method: 'POST', url: '/v1/notifications', headers: { 'x-api-token': 'wrong-token' }, payload: request() })).statusCode).toBe(
      401,
    );
    const big = await svc.app.inject({
      method: 'POST',
      url: '/v1/notifications',
      headers: auth,
      payload: JSON.stringify(request({ metadata: { blob: 'x'.repeat(500) }, pad: 'y'.repeat(2 * 1_048_576) })),
    });
    expect(big.statusCode).toBe(413);
    const outside = await svc.app.inject({
      method: 'POST',
      url: '/v1/notifications',
      headers: auth,
      payload: request({ to: undefined, audience: { path: '../../etc/passwd', format: 'csv' } }),
    });
    expect(outside.statusCode).toBe(400);
    expect(outside.json().issues[0].path).toBe('audience.path');
    expect((await svc.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    expect((await svc.app.inject({ method: 'GET', url: '/metrics' })).body).toContain('wa_ingest_requests_total');
  });

  it('holds a job until its not-before', async () => {
    const notBefore = new Date(Date.now() + 2_000).toISOString();
    await h.send([request({ idempotencyKey: 'later-1', to: '+4915112340009', notBefore })]);
    await waitFor(async () => (await h.redis.zcard(`${h.redisPrefix}ingest:held`)) === 1, { description: 'request held' });
    expect(h.jobs.some((j) => j.requestKey === 'later-1')).toBe(false);
    const job = await waitFor(() => h.jobs.find((j) => j.requestKey === 'later-1'), { description: 'released job', timeoutMs: 10_000 });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(notBefore));
    expect(job.notBefore).toBe(notBefore);
  });

  it('coalesces order updates per recipient into a digest, and nothing else', async () => {
    for (const s of h.services) await s.close();
    await h.startService({ COALESCE_WINDOW_MS: '1500' });
    const a = '+4915112341000';
    const b = '+4915112342000';
    await h.send(
      [
        request({ idempotencyKey: 'co-1', to: a, template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1', 'packed'] } }),
        request({ idempotencyKey: 'co-2', to: a, template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1', 'shipped'] } }),
        request({ idempotencyKey: 'co-3', to: b, template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['B-1', 'shipped'] } }),
        request({ idempotencyKey: 'co-otp', to: a, template: OTP }),
        request({ idempotencyKey: 'co-sale', to: a, template: SALE }),
        request({
          idempotencyKey: 'co-4',
          to: a,
          template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-2', 'delivered'] },
        }),
      ],
      'same-partition',
    );
    const otp = await waitFor(() => h.jobs.find((j) => j.requestKey === 'co-otp'), { description: 'otp' });
    expect(otp.lane).toBe('auth');
    const digest = await waitFor(() => h.jobs.find((j) => j.coalescedJobIds), { description: 'digest', timeoutMs: 10_000 });
    await waitFor(() => h.jobs.some((j) => j.requestKey === 'co-3'), { description: 'single for b' });
    const coJobs = h.jobs.filter((j) => j.requestKey.startsWith('co-'));
    expect(coJobs).toHaveLength(4);
    expect(digest.to).toBe('4915112341000');
    expect(digest.coalescedJobIds).toHaveLength(3);
    expect(digest.message).toEqual({
      type: 'template',
      template: { name: 'order_digest', language: 'en_US', category: 'utility', bodyParams: ['A-1 packed; A-1 shipped; A-2 delivered'] },
    });
    const single = coJobs.find((j) => j.requestKey === 'co-3')!;
    expect(single.coalescedJobIds).toBeUndefined();
    expect(single.message.type === 'template' && single.message.template.name).toBe('order_update');
    expect(coJobs.find((j) => j.requestKey === 'co-sale')!.lane).toBe('marketing');
  });

  it('reads quoted newlines in a CSV audience, and dead-letters one it cannot parse instead of retrying it', async () => {
    writeFileSync(join(h.audienceRoot, 'quoted.csv'), '\uFEFFto,body.1,body.2\r\n+4915112344001,"two\r\nlines",x\r\n+4915112344002,"say ""hi""",y\r\n');
    writeFileSync(join(h.audienceRoot, 'open-quote.csv'), 'to,body.1\n+4915112344003,a\n+4915112344004,"never closed\n');
    const broadcast = (key: string, path: string) =>
      request({
        idempotencyKey: key,
        to: undefined,
        audience: { path, format: 'csv' },
        template: { name: 'order_update', language: 'en_US', category: 'utility' },
      });
    await h.send([broadcast('quoted-bc', 'quoted.csv'), broadcast('open-bc', 'open-quote.csv')]);
    const quoted = await waitFor(
      () => (h.jobs.filter((j) => j.requestKey === 'quoted-bc').length === 2 ? h.jobs.filter((j) => j.requestKey === 'quoted-bc') : undefined),
      {
        description: 'quoted CSV expanded',
        timeoutMs: 30_000,
      },
    );
    expect(quoted.map((j) => j.message.type === 'template' && j.message.template.bodyParams).sort()).toEqual([
      ['say "hi"', 'y'],
      ['two\r\nlines', 'x'],
    ]);
    const dead = await waitFor(() => h.dlq.find((d) => d.requestKey === 'open-bc'), { description: 'unparseable CSV dead-lettered', timeoutMs: 30_000 });
    expect(dead.reason).toBe('audience_unreadable');
    expect(dead.detail).toMatch(/^audience CSV cannot be parsed: Quote Not Closed/);
  });

  it('an OTP reaches the auth lane while a marketing broadcast is still being expanded', async () => {
    const lines = Array.from({ length: 150_000 }, (_, i) => `+49152${String(10_000_000 + i)}`);
    writeFileSync(join(h.audienceRoot, 'sale.csv'), `to,header.1,body.1\n${lines.map((l) => `${l},Spring,20%`).join('\n')}\n`);
    const blast = request({
      idempotencyKey: 'blast',
      to: undefined,
      audience: { path: 'sale.csv', format: 'csv' },
      template: { name: 'spring_sale', language: 'en_US', category: 'marketing' },
    });
    await h.producer.send({ topic: h.requestTopic, acks: -1, messages: [{ partition: 0, value: JSON.stringify(blast) }] });
    await waitFor(() => h.jobs.filter((j) => j.requestKey === 'blast').length > 1_000, { description: 'marketing backlog building', timeoutMs: 20_000 });
    await h.producer.send({
      topic: h.requestTopic,
      acks: -1,
      messages: [{ partition: 1, value: JSON.stringify(request({ idempotencyKey: 'otp-now', to: '+4915112343000', template: OTP })) }],
    });
    const otp = await waitFor(() => h.jobs.find((j) => j.requestKey === 'otp-now'), { description: 'otp during blast', timeoutMs: 10_000 });
    const marketingSoFar = h.jobs.filter((j) => j.requestKey === 'blast').length;
    expect(marketingSoFar).toBeLessThan(150_000);
    expect(otp.lane).toBe('auth');
    const otpIndex = h.jobs.indexOf(otp);
    expect(h.jobTopics[otpIndex]).toBe(h.topic({ name: 'wa.dispatch.jobs.auth' }));
    await waitFor(() => h.jobs.filter((j) => j.requestKey === 'blast').length === 150_000, { description: 'blast done', timeoutMs: 60_000 });
    expect(new Set(h.jobs.filter((j) => j.requestKey === 'blast').map((j) => h.jobTopics[h.jobs.indexOf(j)])).size).toBe(1);
  });
});
