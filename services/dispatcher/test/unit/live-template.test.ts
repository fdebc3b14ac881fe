import { describe, expect, it } from 'vitest';
import { specFromCatalog, type TemplateSpec } from '@wa/shared/templates/spec';
import { evaluateCompliance } from '../../src/domain/compliance';
import { liveTemplate } from '../../src/domain/live-template';

// https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/template_category_update
const spec: TemplateSpec = specFromCatalog({
  wabaId: 'w1',
  name: 'order_update',
  language: 'en_US',
  category: 'utility',
  status: 'APPROVED',
  headerParams: 0,
  bodyParams: 0,
  buttonParams: 0,
  coalescible: false,
});

const effectiveAtMs = Date.parse('2026-12-07T12:00:00Z');
const announced = { from: 'utility' as const, to: 'marketing' as const, effectiveAtMs, kind: 'announced' as const, updatedAt: '2026-12-06T12:00:00.000Z' };

describe('a template re-categorised utility → marketing, as the gates see it', () => {
  it('is utility before the effective time and marketing from it', () => {
    expect(liveTemplate(spec, { categoryChange: announced }, effectiveAtMs - 1)?.category).toBe('utility');
    expect(liveTemplate(spec, { categoryChange: announced }, effectiveAtMs)?.category).toBe('marketing');
    expect(liveTemplate(spec, {}, effectiveAtMs)).toBe(spec);
    expect(liveTemplate(undefined, { categoryChange: announced }, effectiveAtMs)).toBeUndefined();
  });

  it('a catalogue template follows the status webhooks; a synced one keeps Meta’s status', () => {
    expect(liveTemplate(spec, { status: 'PAUSED' }, 0)?.status).toBe('PAUSED');
    expect(liveTemplate({ ...spec, source: 'meta' }, { status: 'PAUSED' }, 0)?.status).toBe('APPROVED');
  });

  it('from the effective time an opted-out person no longer gets it (opt-out policy marketing_only), before it they do', () => {
    const job = {
      category: 'utility' as const,
      message: { type: 'template' as const, template: { name: 'order_update', language: 'en_US', category: 'utility' as const } },
    };
    const facts = (nowMs: number) => ({
      nowMs,
      optedOut: true,
      lastInboundMs: undefined,
      serviceWindowMs: 86_400_000,
      optOutPolicy: 'marketing_only' as const,
      template: () => liveTemplate(spec, { categoryChange: announced }, nowMs),
    });
    expect(evaluateCompliance(job, facts(effectiveAtMs - 1))).toMatchObject({ action: 'send', category: 'utility' });
    expect(evaluateCompliance(job, facts(effectiveAtMs))).toMatchObject({ action: 'reject', reason: 'opted_out' });
  });
});
