import { describe, expect, it } from 'vitest';
import { summariseCampaign } from '../src/campaigns';

const base = { created: '1700000000000', 'req:k1': 'done', audience: '1000', invalid: '10', duplicates: '20', jobs: '970' };

describe('a campaign record summarised', () => {
  it('is null without a record', () => {
    expect(summariseCampaign('x', {})).toBeNull();
  });

  it('accounts for every requested recipient once, and gives progress, rate and ETA', () => {
    const c = summariseCampaign('c', {
      ...base,
      'o:sent': '500',
      'o:meta_refused': '5',
      'o:rejected': '3',
      'o:cancelled': '0',
      'o:retry_scheduled': '9',
      first: '1700000001000',
      last: '1700000011000',
    })!;
    expect(c.state).toBe('active');
    expect(c.pending).toBe(970 - 508);
    expect(c.duplicates + c.invalid + c.refusedByUs + c.acceptedByMeta + c.refusedByMeta + c.unknown + c.pending).toBe(c.requested);
    expect(c.ratePerSecond).toBeCloseTo(50.8);
    expect(c.etaSeconds).toBe(Math.ceil(462 / 50.8));
    expect(c.progress).toBeCloseTo(508 / 970);
  });

  it('is done only when every request is expanded and every job has its outcome', () => {
    expect(summariseCampaign('c', { ...base, 'o:sent': '970' })!.state).toBe('done');
    expect(summariseCampaign('c', { ...base, 'req:k2': 'queued', 'o:sent': '970' })!.state).toBe('active');
    expect(summariseCampaign('c', { ...base, 'o:sent': '969' })!.state).toBe('active');
  });

  it('shows the operator state; a paused campaign has no ETA; cancelled jobs count as refused by us', () => {
    const paused = summariseCampaign('c', { ...base, state: 'paused', 'o:sent': '100', first: '1', last: '1001' })!;
    expect(paused.state).toBe('paused');
    expect(paused.etaSeconds).toBeNull();
    const cancelled = summariseCampaign('c', { ...base, state: 'cancelled', 'o:sent': '100', 'o:cancelled': '870' })!;
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.pending).toBe(0);
    expect(cancelled.cancelled).toBe(870);
    expect(cancelled.refusedByUs).toBe(870);
  });
});
