import { installProcessHandlers } from '@wa/shared/shutdown';
import { loadIngestConfig } from './config';
import { createIngestService } from './service';

const config = loadIngestConfig();
const service = createIngestService(config);
installProcessHandlers(service.shutdown, service.logger);
await service.start();
await service.app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
service.logger.info({ port: config.HTTP_PORT }, 'ingest listening');
