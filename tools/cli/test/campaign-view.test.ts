import { describe, expect, it } from 'vitest';
import { summariseCampaign } from '@wa/shared/campaigns';
import { formatDuration, progressLine, renderCampaign } from '../src/campaign-view';

const record = {
  created: '1700000000000',
  'req:k': 'done',
  audience: '3000',
  invalid: '30',
  duplicates: '29',
  jobs: '2941',
  state: 'paused',
  'o:sent': '883',
  'o:cancelled': '0',
  first: '1700000001000',
  last: '1700000012000',
};

describe('the campaign view', () => {
  it('names the state and scope and accounts for every requested recipient', () => {
    const campaign = summariseCampaign('spring', record)!;
    const text = renderCampaign({
      campaign,
      analytics: {
        funnel: { messages: 883, delivered: 800, read: 300, failed: 3, pending: 80 },
        failuresByReason: [{ stage: 'dlq:ingest', outcome: 'dead_letter', errorCode: 0, reason: 'invalid_recipient', count: 30 }],
        cost: { billableUnits: 800, unpricedUnits: 0, spendUsd: '10.000000' },
      },
    }).join('\n');
    expect(text).toMatch(/state: PAUSED/);
    expect(text).toMatch(/scope: this campaign/);
    expect(text).toMatch(/requested \(audience rows\)\s+3,000/);
    expect(text).toMatch(/30\s+invalid_recipient/);
    expect(text).toMatch(/pending \(queued, paused, retry\)\s+2,058/);
    expect(text).toMatch(/awaiting a final status\s+80/);
    expect(text).not.toMatch(/note:/);
  });

  it('says why there is no ETA', () => {
    expect(progressLine(summariseCampaign('s', record)!)).toMatch(/paused — `wa-broadcast resume`/);
    expect(progressLine(summariseCampaign('s', { ...record, state: 'cancelled' } as Record<string, string>)!)).toMatch(/cancelled$/);
    expect(progressLine(summariseCampaign('s', { ...record, state: '' })!)).toMatch(/ETA \d+ s/);
  });

  it('formats durations for people', () => {
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(7260)).toBe('2 h 1 min');
  });
});
