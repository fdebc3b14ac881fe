import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerGroupId } from '@wa/shared/kafka-consumer-runner';
import { waitFor } from '@wa/shared/testing';
import { Harness, request } from './harness';

describe('bad-input corpus on wa.notifications.requested', () => {
  const h = new Harness();

  beforeAll(async () => {
    await h.setup({ partitions: 1 });
    await h.startService();
    await h.collect();
  });
  afterAll(() => h.teardown());

  it('dead-letters each bad record with its reason while the good ones around them flow on', async () => {
    const good = [0, 1, 2, 3].map((i) => request({ to: `+44 7911 12345${i}` }));
    const wrongTypes = request({ priority: 7, to: 12345 });
    const { sender: _s, ...missingSender } = request();
    const unknownTemplate = request({ template: { name: 'no_such_template', language: 'en_US', category: 'utility' } });
    const unknownSender = request({ sender: { pool: 'nobody' } });
    const invalidNumbers = request({ to: undefined, recipients: ['+4915112345679', 'not-a-number', '+1 000', '+4915112345680'] });
    const expired = request({
      template: {
        name: 'otp_code',
        language: 'en_US',
        category: 'authentication',
        bodyParams: ['123456'],
        buttonParams: [{ index: 0, subType: 'url', text: '123456' }],
      },
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    const huge = Buffer.alloc(10 * 1_048_576, 0x61);
    const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x9c, 0x80, 0x13, 0x37]);

    await h.send([
      good[0]!,
      '{"v":1, "idempotencyKey": ',
      wrongTypes,
      good[1]!,
      missingSender,
      unknownTemplate,
      huge,
      garbage,
      good[2]!,
      unknownSender,
      invalidNumbers,
      expired,
      good[3]!,
    ]);

    // 4 good + 2 good numbers of the invalid-numbers request.
    await waitFor(() => h.jobs.length >= 6 && h.dlq.length >= 10, { timeoutMs: 30_000, description: 'good jobs and DLQ records' }).catch((e) => {
      console.log('JOBS', h.jobs.length, 'DLQ', JSON.stringify(h.dlq.map((d) => [d.reason, d.detail.slice(0, 100)])));
      throw e;
    });
    const reasons = h.dlq.filter((d) => d.source.kind === 'kafka').map((d) => d.reason);
    expect(reasons).toEqual([
      'invalid_json',
      'schema_violation',
      'schema_violation',
      'unknown_template',
      'record_too_large',
      'invalid_json',
      'unknown_sender',
      'expired',
    ]);
    const perRecipient = h.dlq.filter((d) => d.source.kind === 'expansion');
    expect(perRecipient.map((d) => d.reason)).toEqual(['invalid_recipient', 'invalid_recipient']);
    expect(perRecipient.map((d) => Buffer.from(d.originalValueBase64, 'base64').toString())).toEqual(['"not-a-number"', '"+1 000"']);

    const tooLarge = h.dlq.find((d) => d.reason === 'record_too_large')!;
    expect(tooLarge.originalTruncated).toBe(true);
    const bin = h.dlq.filter((d) => d.reason === 'invalid_json')[1]!;
    expect(Buffer.from(bin.originalValueBase64, 'base64')).toEqual(garbage);
    expect(bin.source).toMatchObject({ kind: 'kafka', topic: h.requestTopic, partition: 0, offset: '7' });
    const wrong = h.dlq.find((d) => d.reason === 'schema_violation')!;
    expect(wrong.detail).toMatch(/to:/);
    expect(wrong.detail).toMatch(/priority:/);

    expect(h.jobs.map((j) => j.to).sort()).toEqual(['447911123450', '447911123451', '447911123452', '447911123453', '4915112345679', '4915112345680']);
    expect(h.jobs.every((j) => j.lane === 'utility')).toBe(true);
    expect(h.jobs.find((j) => j.category === 'authentication')).toBeUndefined();

    // All offsets committed: the group is at the end of the topic.
    await waitFor(
      async () => {
        const offsets = await h.admin.fetchOffsets({ groupId: consumerGroupId(h.config().CONSUMER_GROUP, h.config()), topics: [h.requestTopic] });
        return offsets[0]!.partitions[0]!.offset === '13';
      },
      { timeoutMs: 10_000, description: 'committed offset 13' },
    );
  });
});
