import { describe, expect, it } from 'vitest';
import { SEND_ROOM_MIN_JOBS, sendRoomCapacity } from '../../src/domain/send-room';

describe('sendRoomCapacity', () => {
  it("holds SEND_ROOM_MS of a number's paced sends", () => {
    expect(sendRoomCapacity(980, 250)).toBe(245);
    expect(sendRoomCapacity(980, 1_000)).toBe(980);
    expect(sendRoomCapacity(4_000, 250)).toBe(1_000);
  });

  it('never holds fewer than the minimum, so slow numbers keep their slots fed', () => {
    expect(sendRoomCapacity(80, 250)).toBe(SEND_ROOM_MIN_JOBS);
    expect(sendRoomCapacity(0, 250)).toBe(SEND_ROOM_MIN_JOBS);
  });

  it('rounds a fraction of a job up', () => {
    expect(sendRoomCapacity(1_001, 250)).toBe(251);
  });
});
