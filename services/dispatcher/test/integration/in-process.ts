import { afterEach } from 'vitest';
import type { Catalog } from '@wa/shared/catalog';
import { loadDispatcherConfig } from '../../src/config';
import { createDispatcherService, type DispatcherService } from '../../src/service';
import type { Harness } from './harness';

/**
 * In-process dispatchers for one test file: `start` runs one against a harness (its env, plus
 * overrides); after each test every started service is closed, then the file's current harness
 * (`harnessOf()`) is torn down.
 */
export function inProcessDispatchers(harnessOf: () => Harness | undefined) {
  const services: DispatcherService[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
    await harnessOf()?.teardown();
  });
  return {
    services,
    async start(h: Harness, catalog: Catalog, env: Record<string, string> = {}): Promise<DispatcherService> {
      const service = createDispatcherService(loadDispatcherConfig(h.env(env)), { catalog, logger: h.logger });
      services.push(service);
      await service.start();
      return service;
    },
  };
}
