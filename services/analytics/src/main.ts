import { installProcessHandlers } from '@wa/shared/shutdown';
import { loadAnalyticsConfig } from './config';
import { createAnalyticsService } from './service';

const config = loadAnalyticsConfig(process.env);
const service = await createAnalyticsService(config);
installProcessHandlers(service.shutdown, service.logger);
await service.start();
await service.app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
service.logger.info({ port: config.HTTP_PORT }, 'analytics ready: dashboard at /, API under /v1, metrics at /metrics');
