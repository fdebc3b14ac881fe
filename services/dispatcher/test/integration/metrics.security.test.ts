import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@wa/shared/testing';
import { loadDispatcherConfig } from '../../src/config';
import { createDispatcherService, type DispatcherService } from '../../src/service';
import { Harness, job, recipient, world } from './harness';

// Metric labels must stay bounded: a job's own sender field must not mint a new `sender` label value.
describe('dispatcher metrics: senders outside the catalogue', () => {
  it('labels jobs of unknown senders `unknown`, never with the id the job carried', async () => {
    const h = new Harness();
    let service: DispatcherService | undefined;
    try {
      await h.setup(1);
      const w = world([{ id: '1001', mps: 200 }]);
      await h.startSim(w.scenario);
      const registry = new Registry();
      service = createDispatcherService(loadDispatcherConfig(h.env()), { catalog: w.catalog, logger: h.logger, registry });
      await service.start();
      const forged = ['700000000001', '700000000002', '700000000003'].map((id, i) => job({ to: recipient(i), sender: { phoneNumberId: id } }));
      await h.produce(forged);
      await waitFor(() => forged.every((j) => h.terminal(j.jobId).length > 0), { timeoutMs: 60_000, description: 'an outcome for every forged-sender job' });
      const text = await registry.metrics();
      expect(text).not.toMatch(/sender="70000000000/);
      expect(text).toMatch(/wa_dispatch_sends_total\{[^}]*sender="unknown"[^}]*\} 3/);
    } finally {
      await service?.close();
      await h.teardown();
    }
  });
});
