import { createLogger } from '@wa/shared/logger';
import { installProcessHandlers } from '@wa/shared/shutdown';
import { createShutdown } from '@wa/shared/shutdown';
import { loadWebhookConfig } from './config';
import { createWebhookService } from './service';

const config = loadWebhookConfig();
const logger = createLogger({ service: 'webhook', level: config.LOG_LEVEL });
const service = createWebhookService(config, { logger });
const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
shutdown.add('webhook-service', () => service.close());
installProcessHandlers(shutdown, logger);
await service.start();
