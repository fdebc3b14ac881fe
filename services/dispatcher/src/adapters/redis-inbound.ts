import type { Redis } from 'ioredis';
import type { RedisKeys } from '@wa/shared/redis-keys';
import { inboundReserve } from '../domain/inbound';

/**
 * Meta counts inbound messages toward a number's throughput (developers.facebook.com/documentation/
 * business-messaging/whatsapp/throughput: "Throughput is inclusive of inbound and outbound
 * messages"). The webhook service counts each number's inbound messages per second in Redis; this
 * reads the last seconds once a second and keeps the reserve the pacing leaves for them.
 */
export class RedisInboundRates {
  private readonly reserves = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: { keys: RedisKeys; phoneNumberIds: readonly string[]; now: () => number; seconds?: number },
  ) {}

  /** Messages per second to leave free for the number's inbound traffic. */
  reserve(phoneNumberId: string): number {
    return this.reserves.get(phoneNumberId) ?? 0;
  }

  async refresh(): Promise<void> {
    const seconds = this.options.seconds ?? 5;
    const current = Math.floor(this.options.now() / 1000);
    const keys = this.options.phoneNumberIds.flatMap((id) => Array.from({ length: seconds + 1 }, (_, i) => this.options.keys.inboundPerSecond(id, current - i)));
    if (keys.length === 0) return;
    const values = await this.redis.mget(...keys);
    this.options.phoneNumberIds.forEach((id, n) => {
      const counts = values.slice(n * (seconds + 1), (n + 1) * (seconds + 1)).map((v) => Number(v ?? 0));
      this.reserves.set(id, inboundReserve(counts));
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), 1_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
