import { LANES_BY_PRIORITY, type Lane } from '@wa/shared/contracts/common';

/** A FIFO with O(1) take: per-number backlogs reach tens of thousands, and Array#shift is O(n) there. */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1_024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/** The fewest jobs a room holds: enough to keep a slow number's slots fed across a Redis round trip and a stalled loop. */
export const SEND_ROOM_MIN_JOBS = 50;

/**
 * How many jobs of a number paced at `targetMps` may be in their checks or waiting for a slot: `roomMs`
 * of its sends, at least SEND_ROOM_MIN_JOBS. Slots are reserved 100 ms ahead, so a quarter of a second
 * keeps them fed; a larger room only makes jobs wait longer holding their checked state (memory the
 * young generation copies, timers and promises each scheduler pass walks).
 */
export function sendRoomCapacity(targetMps: number, roomMs: number): number {
  return Math.max(SEND_ROOM_MIN_JOBS, Math.ceil((targetMps * roomMs) / 1_000));
}

/** Thrown to jobs still waiting for their number's room when the process shuts down: they were not started, so they are fetched again. */
export class SendRoomClosedError extends Error {
  readonly code = 'send_room_closed';
  constructor() {
    super('the dispatcher is shutting down; the job was not started and will be redelivered');
  }
}

interface Waiter {
  admit: () => void;
  reject: (err: Error) => void;
}

interface Room {
  inside: number;
  waiting: Record<Lane, Fifo<Waiter>>;
}

/**
 * Per-number admission into a process' send path: a job starts its checks only while its number
 * has fewer than `capacityOf(number)` jobs between the start of their checks and their send
 * (`sendRoomCapacity`: SEND_ROOM_MS of that number's sends). Jobs beyond that wait here holding nothing (no concurrency
 * permit, no Redis work), so one number's backlog cannot take the permits another number's jobs
 * need, and the checks never run far ahead of the sends. Waiters enter by lane priority
 * (auth → utility → marketing), FIFO within a lane. `enter` resolves with `leave`, which is idempotent.
 * (Refilling in groups, so admitted jobs share one auto-pipelined Redis write, cut CPU per send but
 * brought 130429s into the 100 msg/s phase of the tier test: 5 of 7 attempts against 0 of 4.)
 */
export function createSendRoom(capacityOf: (number: string) => number) {
  const rooms = new Map<string, Room>();
  let closed = false;

  function roomOf(number: string): Room {
    let room = rooms.get(number);
    if (!room) rooms.set(number, (room = { inside: 0, waiting: { auth: new Fifo(), utility: new Fifo(), marketing: new Fifo() } }));
    return room;
  }

  const queued = (room: Room) => room.waiting.auth.length + room.waiting.utility.length + room.waiting.marketing.length;

  function admitWaiters(number: string, room: Room): void {
    if (closed) return;
    const capacity = Math.max(1, capacityOf(number));
    for (const lane of LANES_BY_PRIORITY) {
      while (room.inside < capacity && room.waiting[lane].length > 0) {
        room.inside++;
        room.waiting[lane].shift()!.admit();
      }
    }
  }

  function leaver(number: string, room: Room): () => void {
    let left = false;
    return () => {
      if (left) return;
      left = true;
      room.inside--;
      admitWaiters(number, room);
    };
  }

  return {
    enter(number: string, lane: Lane): Promise<() => void> {
      if (closed) return Promise.reject(new SendRoomClosedError());
      const room = roomOf(number);
      if (queued(room) === 0 && room.inside < Math.max(1, capacityOf(number))) {
        room.inside++;
        return Promise.resolve(leaver(number, room));
      }
      return new Promise((resolve, reject) => room.waiting[lane].push({ admit: () => resolve(leaver(number, room)), reject }));
    },
    /** Jobs of this number inside (in checks or waiting for a send slot) and waiting to enter. */
    occupancy(number: string): { inside: number; waiting: number } {
      const room = rooms.get(number);
      return room ? { inside: room.inside, waiting: queued(room) } : { inside: 0, waiting: 0 };
    },
    /** Shutdown: jobs inside go on to their send; every waiting job is turned away with SendRoomClosedError, and so is every later one. */
    close(): void {
      closed = true;
      for (const room of rooms.values()) {
        for (const lane of LANES_BY_PRIORITY) {
          for (let w = room.waiting[lane].shift(); w; w = room.waiting[lane].shift()) w.reject(new SendRoomClosedError());
        }
      }
    },
  };
}
export type SendRoom = ReturnType<typeof createSendRoom>;
