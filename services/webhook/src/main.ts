import { installProcessHandlers } from '@wa/shared/shutdown';
import { loadWebhookConfig } from './config';
import { createWebhookService } from './service';

const config = loadWebhookConfig();
const service = createWebhookService(config);
installProcessHandlers(service.shutdown, service.logger);
// Kafka and Redis connect in the background: the receiver answers 503 (Meta retries) until Kafka is up.
await service.start();
await service.app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
service.logger.info({ port: config.HTTP_PORT }, 'webhook listening');
