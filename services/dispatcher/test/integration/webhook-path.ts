import { listenLocal } from '@wa/shared/testing';
import { loadWebhookConfig } from '../../../webhook/src/config';
import { createWebhookService, type WebhookService } from '../../../webhook/src/service';
import type { Harness } from './harness';

/**
 * The product's webhook service (receiver and normaliser) in this process, on the harness' broker, Redis and
 * prefixes, verifying the simulator's signatures with `appSecret`: the path Meta's webhooks take to the dispatcher.
 * Returns the service (close it after the test) and the URL to give the simulator.
 */
export async function startWebhookPath(h: Harness, appSecret: string): Promise<{ service: WebhookService; webhookUrl: string }> {
  const service = createWebhookService(
    loadWebhookConfig({
      KAFKA_BROKERS: h.infra.brokers.join(','),
      REDIS_URL: h.infra.redisUrl,
      TOPIC_PREFIX: h.prefix,
      REDIS_KEY_PREFIX: h.redisPrefix,
      LOG_LEVEL: 'error',
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      WEBHOOK_APP_SECRETS: `sim=${appSecret}`,
      WEBHOOK_VERIFY_TOKEN: 'verify',
      NORMALISER_GROUP_ID: `${h.prefix}normaliser`,
      NORMALISER_FETCH_MAX_WAIT_MS: '50',
    }),
  );
  await service.start();
  const url = await listenLocal(service.app);
  await service.whenReady();
  return { service, webhookUrl: `${url}/webhook` };
}
