import type { Producer } from 'kafkajs';
import { kafkaError } from '@wa/shared/kafka';

export interface OutRecord {
  topic: string;
  key: string | null;
  value: Buffer;
}

/**
 * Batches outcome, retry and DLQ records from many concurrent jobs into one `sendBatch` (acks=-1):
 * each caller's promise settles when its records are acknowledged, which is what lets the consumer
 * resolve the source offset. Lingers `lingerMs` or until `maxBatch` records, whichever comes first.
 */
export class OutcomeProducer {
  private buffer: { records: OutRecord[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly producer: Producer,
    private readonly options: { lingerMs: number; maxBatch?: number },
  ) {}

  publish(records: OutRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.buffer.push({ records, resolve, reject });
      this.size += records.length;
      if (this.size >= (this.options.maxBatch ?? 500)) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.lingerMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    this.size = 0;
    if (batch.length === 0) return;
    const byTopic = new Map<string, { key: string | null; value: Buffer }[]>();
    for (const item of batch) {
      for (const r of item.records) {
        let list = byTopic.get(r.topic);
        if (!list) byTopic.set(r.topic, (list = []));
        list.push({ key: r.key, value: r.value });
      }
    }
    const p = this.producer
      .sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
      .then(
        () => batch.forEach((b) => b.resolve()),
        (err) => {
          const wrapped = kafkaError(err, 'produce outcome');
          batch.forEach((b) => b.reject(wrapped));
        },
      )
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Sends whatever is buffered and waits for every produce in flight. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }
}
