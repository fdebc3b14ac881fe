import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { request } from 'undici';
import type { CatalogIndex } from '@wa/shared/catalog';
import type { Clock } from '@wa/shared/clock';
import type { RedisKeys } from '@wa/shared/redis-keys';
import { graphPhoneState, PHONE_NUMBER_FIELDS, type GraphPhoneState } from '../domain/graph-phone-state';

export interface GraphSenderSyncOptions {
  baseUrl: string;
  version: string;
  accessTokens: ReadonlyMap<string, string>;
  catalog: CatalogIndex;
  keys: RedisKeys;
  /** 0 = only at start-up. */
  intervalMs: number;
  timeoutMs: number;
  stateTtlMs: number;
  clock: Clock;
  logger: Logger;
}

export interface SyncResult {
  read: number;
  failed: { phoneNumberId: string; reason: string }[];
}

/**
 * Reads each catalogued number's state from the Graph API — at start-up and every `intervalMs` —
 * because webhooks get lost or arrive late, and writes it where the webhook service writes
 * (same keys, same JSON, `source: graph_api`), then announces it like a webhook change.
 */
export class GraphSenderSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SyncResult> | undefined;
  last: { at: string; result: SyncResult } | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: GraphSenderSyncOptions,
  ) {}

  start(): void {
    void this.runOnce();
    if (this.options.intervalMs > 0) {
      this.timer = setInterval(() => void this.runOnce(), this.options.intervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }

  runOnce(): Promise<SyncResult> {
    this.running ??= this.syncAll().finally(() => (this.running = undefined));
    return this.running;
  }

  private async syncAll(): Promise<SyncResult> {
    const result: SyncResult = { read: 0, failed: [] };
    for (const n of this.options.catalog.catalog.phoneNumbers) {
      try {
        const state = await this.read(n.id, n.wabaId, n.throughputMps);
        await this.apply(n.id, n.wabaId, state);
        result.read += 1;
      } catch (err) {
        result.failed.push({ phoneNumberId: n.id, reason: (err as Error).message });
      }
    }
    if (result.failed.length > 0) this.options.logger.warn({ failed: result.failed }, 'sender state from the Graph API: some numbers could not be read');
    this.last = { at: new Date(this.options.clock.now()).toISOString(), result };
    return result;
  }

  private async read(phoneNumberId: string, wabaId: string, configuredMps: number): Promise<GraphPhoneState> {
    const token = this.options.accessTokens.get(wabaId);
    if (token === undefined) throw new Error(`no access token for business account ${wabaId}`);
    const url = `${this.options.baseUrl.replace(/\/$/, '')}/${this.options.version}/${phoneNumberId}?fields=${PHONE_NUMBER_FIELDS.join(',')}`;
    const res = await request(url, {
      method: 'GET',
      headers: { authorization: `Bearer ${token}` },
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs,
    });
    const body = (await res.body.json().catch(() => undefined)) as { error?: { code?: number; message?: string } } | undefined;
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}${body?.error?.code !== undefined ? ` code ${body.error.code}` : ''}`);
    return graphPhoneState(body, configuredMps);
  }

  private async apply(phoneNumberId: string, wabaId: string, state: GraphPhoneState): Promise<void> {
    const { keys, stateTtlMs } = this.options;
    const at = new Date(this.options.clock.now()).toISOString();
    const phone: Record<string, unknown> = { quality: state.quality ?? 'UNKNOWN', event: 'GRAPH_API', updatedAt: at, source: 'graph_api' };
    if (state.quality !== undefined) phone.qualityAt = at;
    if (state.throughputMps !== undefined) {
      phone.throughputMps = state.throughputMps;
      phone.throughputAt = at;
    }
    if (state.nameStatus !== undefined) phone.nameStatus = state.nameStatus;
    if (state.status !== undefined) phone.status = state.status;
    const pipeline = this.redis.pipeline();
    pipeline.set(keys.phoneQuality(phoneNumberId), JSON.stringify(phone), 'PX', stateTtlMs);
    if (state.messagingLimit !== undefined) {
      pipeline.set(
        keys.messagingLimit(wabaId),
        JSON.stringify({ limit: state.messagingLimit, event: 'GRAPH_API', updatedAt: at, source: 'graph_api' }),
        'PX',
        stateTtlMs,
      );
    }
    pipeline.publish(keys.accountChangesChannel(), JSON.stringify({ kind: 'graph_api', wabaId, phoneNumberId }));
    const replies = await pipeline.exec();
    const failed = replies?.find(([err]) => err !== null);
    if (failed?.[0]) throw failed[0];
  }
}
