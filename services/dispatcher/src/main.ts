import { installProcessHandlers } from '@wa/shared/shutdown';
import { loadDispatcherConfig } from './config';
import { createDispatcherService } from './service';

const config = loadDispatcherConfig();
const service = createDispatcherService(config);
installProcessHandlers(service.shutdown, service.logger);
await service.start();
await service.app.listen({ port: config.HTTP_PORT, host: '0.0.0.0' });
service.logger.info({ port: config.HTTP_PORT }, 'dispatcher listening');
