import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { ChdbExtension } from 'chdb/connection';

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
  const connection = createChdbConnection({ path: options.path });
  const client = createClient({ connection } as unknown as Parameters<typeof createClient>[0]);
  embeddedEngines.set(client, connection.chdb);
  return client;
}

const embeddedEngines = new WeakMap<ClickHouseClient, ChdbExtension>();

/**
 * chdb's own API (its documented `.chdb` extension: raw inserts, Arrow results) behind a client made
 * by createClickHouse without a URL; undefined for a client talking to a server.
 */
export function embeddedChdbOf(client: ClickHouseClient): ChdbExtension | undefined {
  return embeddedEngines.get(client);
}
