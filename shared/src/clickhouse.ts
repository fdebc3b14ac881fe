import { createClient, type ClickHouseClient } from '@clickhouse/client';

export type { ClickHouseClient } from '@clickhouse/client';

export interface ClickHouseOptions {
  /** A ClickHouse server's HTTP URL; when absent, ClickHouse is embedded in-process through chdb. */
  url?: string | undefined;
  /** Data directory of the embedded engine. */
  path: string;
  database?: string;
  username?: string | undefined;
  password?: string | undefined;
}

/**
 * The ClickHouse client: HTTP to a server when a URL is configured, otherwise the embedded engine
 * (chdb) behind the same `@clickhouse/client` interface, so the rest of the code cannot tell.
 */
export async function createClickHouse(options: ClickHouseOptions): Promise<ClickHouseClient> {
  if (options.url) {
    return createClient({
      url: options.url,
      username: options.username ?? 'default',
      password: options.password ?? '',
      database: options.database ?? 'default',
      clickhouse_settings: { async_insert: 0 },
    });
  }
  // Loaded lazily: the native module is only needed when running embedded.
  const { createChdbConnection } = await import('chdb/connection');
  return createClient({ connection: createChdbConnection({ path: options.path }) } as unknown as Parameters<typeof createClient>[0]);
}
