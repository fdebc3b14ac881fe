import { describe, expect, it } from 'vitest';
import { counterSum, histogramQuantile } from '../src/prom-text';

const text = `# HELP wa_webhook_ack_duration_seconds ack
# TYPE wa_webhook_ack_duration_seconds histogram
wa_webhook_ack_duration_seconds_bucket{le="0.001",svc="webhook",status="200"} 10
wa_webhook_ack_duration_seconds_bucket{le="0.005",svc="webhook",status="200"} 60
wa_webhook_ack_duration_seconds_bucket{le="0.01",svc="webhook",status="200"} 90
wa_webhook_ack_duration_seconds_bucket{le="+Inf",svc="webhook",status="200"} 100
wa_webhook_ack_duration_seconds_bucket{le="0.001",svc="webhook",status="401"} 0
wa_webhook_ack_duration_seconds_bucket{le="0.005",svc="webhook",status="401"} 0
wa_webhook_ack_duration_seconds_bucket{le="0.01",svc="webhook",status="401"} 0
wa_webhook_ack_duration_seconds_bucket{le="+Inf",svc="webhook",status="401"} 0
wa_dispatch_errors_total{svc="dispatcher",code="130429"} 3
wa_dispatch_errors_total{svc="dispatcher",code="131026"} 5
wa_dispatch_errors_total_created{svc="dispatcher",code="130429"} 1700000000
`;

describe('Prometheus text parsing', () => {
  it('interpolates histogram quantiles inside the bucket, summed over label sets', () => {
    expect(histogramQuantile(text, 'wa_webhook_ack_duration_seconds', 0.5)).toBeCloseTo(0.001 + (0.004 * 40) / 50, 9);
    expect(histogramQuantile(text, 'wa_webhook_ack_duration_seconds', 0.9)).toBeCloseTo(0.01, 9);
    expect(histogramQuantile(text, 'wa_webhook_ack_duration_seconds', 0.99)).toBe(0.01);
    expect(histogramQuantile(text, 'missing_metric', 0.5)).toBeNull();
  });
  it('sums counters by label filter without matching longer names', () => {
    expect(counterSum(text, 'wa_dispatch_errors_total', 'code="130429"')).toBe(3);
    expect(counterSum(text, 'wa_dispatch_errors_total')).toBe(8);
  });
});
