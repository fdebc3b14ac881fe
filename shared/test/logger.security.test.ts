import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  return { lines, logger: createLogger({ service: 'sec', level: 'info', destination }) };
}

describe('log redaction reaches every depth', () => {
  it('redacts phone numbers and secrets nested in objects and arrays, recipient_id, and a verify token inside a URL', async () => {
    const { lines, logger } = capture();
    logger.info(
      {
        job: { message: { to: '+14155550123', template: { name: 'order_update' } }, meta: [{ waId: '14155550124' }, { recipient_id: '14155550125' }] },
        recipients: ['+14155550126'],
        status: { recipient_id: '14155550127' },
        deep: { a: { b: { c: { from: '14155550128', headers: { authorization: 'Bearer abc-secret' } } } } },
        url: '/webhook?hub.mode=subscribe&hub.verify_token=verify-secret-1&hub.challenge=1',
        count: 3,
      },
      'nested',
    );
    logger.info({ recipient_id: '14155550129' }, 'top level');
    logger.warn({ req: { url: '/webhook?hub.verify_token=verify-secret-2' } }, 'request');
    await new Promise((r) => setImmediate(r));
    const text = lines.join('');
    for (const secret of [
      '4155550123',
      '4155550124',
      '4155550125',
      '4155550126',
      '4155550127',
      '4155550128',
      '4155550129',
      'abc-secret',
      'verify-secret-1',
      'verify-secret-2',
    ]) {
      expect(text, secret).not.toContain(secret);
    }
    expect(text).toContain('order_update');
    expect(text).toContain('"count":3');
    expect(text).toContain('hub.challenge=1');
  });
});
