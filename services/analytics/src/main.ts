import { createLogger } from '@wa/shared/logger';
import { createShutdown, installProcessHandlers } from '@wa/shared/shutdown';
import { loadAnalyticsConfig } from './config';
import { createAnalyticsService } from './service';

const config = loadAnalyticsConfig(process.env);
const logger = createLogger({ service: 'analytics', level: config.LOG_LEVEL });
const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
installProcessHandlers(shutdown, logger);
const service = await createAnalyticsService(config, { logger, shutdown });
await service.start();
await service.app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
logger.info({ port: config.HTTP_PORT }, 'analytics ready: dashboard at /, API under /v1, metrics at /metrics');
