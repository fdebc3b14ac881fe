import { randomBytes } from 'node:crypto';

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

type TypedArrayCtor = Float64ArrayConstructor | Int32ArrayConstructor | Uint16ArrayConstructor | Uint8ArrayConstructor;

/** A growable typed-array column in 64 Ki chunks: no per-message objects, no copying on growth. */
class Column {
  private readonly chunks: (Float64Array | Int32Array | Uint16Array | Uint8Array)[] = [];
  constructor(private readonly Ctor: TypedArrayCtor) {}
  ensure(i: number): void {
    while (this.chunks.length <= i >>> CHUNK_BITS) this.chunks.push(new this.Ctor(CHUNK));
  }
  get(i: number): number {
    return this.chunks[i >>> CHUNK_BITS]![i & MASK]!;
  }
  set(i: number, v: number): void {
    this.chunks[i >>> CHUNK_BITS]![i & MASK] = v;
  }
  bytes(): number {
    return this.chunks.reduce((n, c) => n + c.byteLength, 0);
  }
}

export const CATEGORY = ['service', 'marketing', 'utility', 'authentication'] as const;
export type Category = (typeof CATEGORY)[number];
export const PRICING_TYPE = ['regular', 'free_customer_service', 'free_entry_point'] as const;
export type PricingType = (typeof PRICING_TYPE)[number];
export const MESSAGE_TYPES = ['text', 'template', 'interactive', 'image', 'document', 'video', 'audio', 'sticker', 'reaction', 'location', 'contacts'] as const;

export const STATUS_BIT = { sent: 1, delivered: 2, read: 4, failed: 8 } as const;
export type StatusName = keyof typeof STATUS_BIT;

export interface NewMessage {
  phoneIdx: number;
  recipient: string;
  acceptedAt: number;
  messageType: number;
  templateIdx: number;
  category: number;
  pricingType: number;
  billable: boolean;
  convIdx: number;
  failCode: number;
  bizOpaque: string | undefined;
}

export interface MessageView {
  index: number;
  wamid: string;
  phoneIdx: number;
  recipient: string;
  acceptedAt: number;
  messageType: (typeof MESSAGE_TYPES)[number];
  templateIdx: number;
  category: Category;
  pricingType: PricingType;
  billable: boolean;
  convIdx: number;
  failCode: number;
  statuses: StatusName[];
  bizOpaque: string | undefined;
}

/**
 * Every accepted message, columnar (≈ 40 bytes each plus the optional callback string), indexed
 * by a sequence number that is embedded in the wamid, so a wamid resolves without a map.
 */
export class MessageStore {
  private readonly recipient = new Column(Float64Array);
  private readonly acceptedAt = new Column(Float64Array);
  private readonly phoneIdx = new Column(Uint16Array);
  private readonly templateIdx = new Column(Int32Array);
  private readonly convIdx = new Column(Int32Array);
  private readonly failCode = new Column(Int32Array);
  private readonly packed = new Column(Uint8Array); // messageType(4) | category(2) | pricingType(2)
  private readonly flags = new Column(Uint8Array); // status bits (4) | billable (16)
  private readonly opaque: (string | undefined)[] = [];
  /** First index per biz_opaque_callback_data, and every index for those accepted more than once. */
  private readonly firstByOpaque = new Map<string, number>();
  private readonly duplicateIdx = new Map<string, number[]>();
  private readonly tag = randomBytes(4).toString('hex').toUpperCase();
  size = 0;

  add(m: NewMessage): number {
    const i = this.size++;
    if ((i & MASK) === 0) {
      for (const c of [this.recipient, this.acceptedAt, this.phoneIdx, this.templateIdx, this.convIdx, this.failCode, this.packed, this.flags]) c.ensure(i);
    }
    this.recipient.set(i, Number(m.recipient));
    this.acceptedAt.set(i, m.acceptedAt);
    this.phoneIdx.set(i, m.phoneIdx);
    this.templateIdx.set(i, m.templateIdx);
    this.convIdx.set(i, m.convIdx);
    this.failCode.set(i, m.failCode);
    this.packed.set(i, (m.messageType << 4) | (m.category << 2) | m.pricingType);
    this.flags.set(i, m.billable ? 16 : 0);
    this.opaque.push(m.bizOpaque);
    if (m.bizOpaque !== undefined) {
      const first = this.firstByOpaque.get(m.bizOpaque);
      if (first === undefined) this.firstByOpaque.set(m.bizOpaque, i);
      else {
        const list = this.duplicateIdx.get(m.bizOpaque);
        if (list) list.push(i);
        else this.duplicateIdx.set(m.bizOpaque, [first, i]);
      }
    }
    return i;
  }

  wamid(i: number): string {
    const to = Buffer.from(String(this.recipient.get(i)))
      .toString('base64')
      .replace(/=+$/, '');
    return `wamid.HBgL${to}FQIAERgS${this.tag}${i.toString(16).toUpperCase().padStart(12, '0')}`;
  }

  /** Index of a wamid issued by this store (since the last reset), else -1. */
  indexOf(wamid: string): number {
    const m = /([0-9A-F]{8})([0-9A-F]{12})$/.exec(wamid);
    if (!m || m[1] !== this.tag) return -1;
    const i = parseInt(m[2]!, 16);
    return i < this.size ? i : -1;
  }

  recipientOf(i: number): string {
    return String(this.recipient.get(i));
  }
  phoneOf(i: number): number {
    return this.phoneIdx.get(i);
  }
  acceptedAtOf(i: number): number {
    return this.acceptedAt.get(i);
  }
  templateOf(i: number): number {
    return this.templateIdx.get(i);
  }
  convOf(i: number): number {
    return this.convIdx.get(i);
  }
  failCodeOf(i: number): number {
    return this.failCode.get(i);
  }
  categoryOf(i: number): Category {
    return CATEGORY[(this.packed.get(i) >> 2) & 3]!;
  }
  pricingTypeOf(i: number): PricingType {
    return PRICING_TYPE[this.packed.get(i) & 3]!;
  }
  messageTypeOf(i: number): number {
    return this.packed.get(i) >> 4;
  }
  billableOf(i: number): boolean {
    return (this.flags.get(i) & 16) !== 0;
  }
  opaqueOf(i: number): string | undefined {
    return this.opaque[i];
  }
  /** A message accepted and held, then dropped (template pacing's bad verdict). */
  setFailCode(i: number, code: number): void {
    this.failCode.set(i, code);
  }
  markStatus(i: number, s: StatusName): void {
    this.flags.set(i, this.flags.get(i) | STATUS_BIT[s]);
  }
  statusesOf(i: number): StatusName[] {
    const f = this.flags.get(i);
    return (Object.keys(STATUS_BIT) as StatusName[]).filter((k) => (f & STATUS_BIT[k]) !== 0);
  }

  view(i: number): MessageView {
    return {
      index: i,
      wamid: this.wamid(i),
      phoneIdx: this.phoneOf(i),
      recipient: this.recipientOf(i),
      acceptedAt: this.acceptedAtOf(i),
      messageType: MESSAGE_TYPES[this.messageTypeOf(i)] ?? 'text',
      templateIdx: this.templateOf(i),
      category: this.categoryOf(i),
      pricingType: this.pricingTypeOf(i),
      billable: this.billableOf(i),
      convIdx: this.convOf(i),
      failCode: this.failCodeOf(i),
      statuses: this.statusesOf(i),
      bizOpaque: this.opaqueOf(i),
    };
  }

  duplicateCount(): number {
    return this.duplicateIdx.size;
  }

  duplicates(limit = 1000): { bizOpaqueCallbackData: string; count: number; wamids: string[] }[] {
    const out: { bizOpaqueCallbackData: string; count: number; wamids: string[] }[] = [];
    for (const [k, idx] of this.duplicateIdx) {
      if (out.length >= limit) break;
      out.push({ bizOpaqueCallbackData: k, count: idx.length, wamids: idx.map((i) => this.wamid(i)) });
    }
    return out;
  }

  approxBytes(): number {
    return [this.recipient, this.acceptedAt, this.phoneIdx, this.templateIdx, this.convIdx, this.failCode, this.packed, this.flags].reduce(
      (n, c) => n + c.bytes(),
      0,
    );
  }
}
