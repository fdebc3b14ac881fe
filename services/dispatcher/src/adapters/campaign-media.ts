import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { DispatchMessage } from '@wa/shared/contracts/dispatch-job';
import type { Redis } from '@wa/shared/redis';
import type { RedisKeys } from '@wa/shared/redis-keys';
import { linksToUpload, MEDIA_ID_LIFETIME_MS, needsRefresh, withMediaIds } from '../domain/campaign-media';
import type { Clock } from '../ports';

/** Meta's largest media file (documents, 100 MB): nothing bigger is downloaded. */
const MAX_MEDIA_BYTES = 100 * 1_048_576;
/** After a failed upload the campaign sends by link for this long before trying again. */
const FAILURE_BACKOFF_S = 300;
const LOCK_MS = 60_000;
const WAIT_FOR_OTHER_MS = 10_000;

export type CampaignMediaResult = 'uploaded' | 'refreshed' | 'reused' | 'failed';

interface Stored {
  id: string;
  uploadedAt: number;
}

export interface CampaignMediaOptions {
  redis: Redis;
  keys: RedisKeys;
  baseUrl: string;
  version: string;
  timeoutMs: number;
  /** Hosts media may be downloaded from (MEDIA_UPLOAD_HOSTS): request links are caller input, never fetched from anywhere else. */
  allowedHosts: readonly string[];
  clock: Clock;
  logger: Logger;
  counter: Counter<'result'>;
}

/**
 * Media uploaded once per campaign and sender (`{link, upload: true}` in a campaign's messages):
 * the first job that needs it downloads the link and uploads it through POST /{phone-number-id}/media,
 * every other job of the campaign reuses the id from Redis (one uploader across replicas: a lock), and
 * an upload older than MEDIA_REFRESH_AFTER_MS is replaced before Meta's 30-day expiry. Any failure
 * leaves the link in the message, so the send goes out by link.
 */
export class CampaignMedia {
  private readonly inFlight = new Map<string, Promise<string | undefined>>();

  constructor(private readonly o: CampaignMediaOptions) {}

  /** The message with its campaign uploads as media ids (unchanged when it asks for none). */
  async resolve(campaignId: string, phoneNumberId: string, accessToken: string, message: DispatchMessage): Promise<DispatchMessage> {
    const links = linksToUpload(message).filter((l) => this.o.allowedHosts.includes(new URL(l).hostname.toLowerCase()));
    if (links.length === 0) return message;
    const ids = new Map<string, string>();
    for (const link of links) {
      const id = await this.idFor(campaignId, phoneNumberId, accessToken, link);
      if (id !== undefined) ids.set(link, id);
    }
    return withMediaIds(message, ids);
  }

  private idFor(campaignId: string, phoneNumberId: string, accessToken: string, link: string): Promise<string | undefined> {
    const key = this.o.keys.campaignMedia(campaignId, phoneNumberId, createHash('sha256').update(link).digest('hex').slice(0, 32));
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.load(key, phoneNumberId, accessToken, link).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async stored(key: string): Promise<Stored | undefined> {
    const raw = await this.o.redis.get(key);
    return raw ? (JSON.parse(raw) as Stored) : undefined;
  }

  private async load(key: string, phoneNumberId: string, accessToken: string, link: string): Promise<string | undefined> {
    const now = this.o.clock.now();
    const cached = await this.stored(key);
    if (cached && !needsRefresh(cached.uploadedAt, now)) return this.done('reused', cached.id);
    const usable = cached && now - cached.uploadedAt < MEDIA_ID_LIFETIME_MS ? cached.id : undefined;
    if (await this.o.redis.exists(`${key}:failed`)) return usable;
    const owner = randomUUID();
    if ((await this.o.redis.set(`${key}:lock`, owner, 'PX', LOCK_MS, 'NX')) === null) {
      // Another dispatcher is uploading it: wait for its id, else send by link (or the old id) this time.
      for (let waited = 0; waited < WAIT_FOR_OTHER_MS; waited += 200) {
        await new Promise((r) => setTimeout(r, 200));
        const fresh = await this.stored(key);
        if (fresh && fresh.id !== cached?.id) return this.done('reused', fresh.id);
      }
      return usable;
    }
    try {
      const id = await this.upload(phoneNumberId, accessToken, link);
      const uploadedAt = this.o.clock.now();
      const ttlS = Math.ceil((MEDIA_ID_LIFETIME_MS - 86_400_000) / 1000);
      await this.o.redis.set(key, JSON.stringify({ id, uploadedAt } satisfies Stored), 'EX', ttlS);
      return this.done(cached ? 'refreshed' : 'uploaded', id);
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message, phoneNumberId }, 'campaign media upload failed: sending by link');
      await this.o.redis.set(`${key}:failed`, '1', 'EX', FAILURE_BACKOFF_S);
      this.o.counter.inc({ result: 'failed' });
      return usable;
    } finally {
      // Released only if still ours (compare-and-delete).
      await this.o.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0", 1, `${key}:lock`, owner);
    }
  }

  private done(result: CampaignMediaResult, id: string): string {
    this.o.counter.inc({ result });
    return id;
  }

  private async upload(phoneNumberId: string, accessToken: string, link: string): Promise<string> {
    // No redirects: a redirect could lead off the allowed hosts.
    const file = await fetch(link, { signal: AbortSignal.timeout(this.o.timeoutMs), redirect: 'error' });
    if (!file.ok) throw new Error(`GET ${new URL(link).host}: HTTP ${file.status}`);
    const declared = Number(file.headers.get('content-length') ?? 0);
    if (declared > MAX_MEDIA_BYTES) throw new Error(`media of ${declared} bytes is over Meta's limit`);
    const bytes = Buffer.from(await file.arrayBuffer());
    if (bytes.length > MAX_MEDIA_BYTES) throw new Error(`media of ${bytes.length} bytes is over Meta's limit`);
    const type = (file.headers.get('content-type') ?? 'application/octet-stream').split(';')[0]!.trim();
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', type);
    form.set('file', new Blob([bytes], { type }), new URL(link).pathname.split('/').pop() || 'media');
    const res = await fetch(`${this.o.baseUrl.replace(/\/+$/, '')}/${this.o.version}/${phoneNumberId}/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}` },
      body: form,
      signal: AbortSignal.timeout(this.o.timeoutMs),
    });
    const body = (await res.json().catch(() => ({}))) as { id?: string; error?: { code?: number } };
    if (!res.ok || typeof body.id !== 'string') throw new Error(`upload refused: HTTP ${res.status} code ${body.error?.code ?? 'none'}`);
    return body.id;
  }
}
