import { createShutdown, installProcessHandlers } from '@wa/shared/shutdown';
import { loadDispatcherConfig } from './config';
import { createDispatcherService } from './service';

const config = loadDispatcherConfig();
const service = createDispatcherService(config);
const shutdown = createShutdown({ logger: service.logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
installProcessHandlers(shutdown, service.logger);
shutdown.add('dispatcher', () => service.close());

await service.start();
await service.app.listen({ port: config.HTTP_PORT, host: '0.0.0.0' });
service.logger.info({ port: config.HTTP_PORT }, 'dispatcher listening');
