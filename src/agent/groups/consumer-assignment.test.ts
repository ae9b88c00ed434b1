import { describe, expect, it } from 'vitest';
import { decodeConsumerAssignment } from './consumer-assignment.js';

/** A consumer-protocol Assignment as Kafka clients encode it. */
function assignment(version: number, topics: Array<[string, number[]]>, userData: Buffer | null): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(6);
  head.writeInt16BE(version, 0);
  head.writeInt32BE(topics.length, 2);
  parts.push(head);
  for (const [name, partitions] of topics) {
    const n = Buffer.from(name);
    const b = Buffer.alloc(2 + n.length + 4 + partitions.length * 4);
    b.writeInt16BE(n.length, 0);
    n.copy(b, 2);
    b.writeInt32BE(partitions.length, 2 + n.length);
    partitions.forEach((p, i) => b.writeInt32BE(p, 6 + n.length + i * 4));
    parts.push(b);
  }
  const ud = Buffer.alloc(4);
  ud.writeInt32BE(userData ? userData.length : -1, 0);
  parts.push(ud);
  if (userData) parts.push(userData);
  return Buffer.concat(parts);
}

describe('decodeConsumerAssignment', () => {
  it('reads topics and partitions of versions 0 to 3, sorted', () => {
    for (const v of [0, 1, 2, 3]) {
      expect(decodeConsumerAssignment(assignment(v, [['orders', [3, 1]], ['audit', [0]]], Buffer.from('x')))).toEqual([
        { topic: 'audit', partitions: [0] },
        { topic: 'orders', partitions: [1, 3] },
      ]);
    }
  });

  it('gives [] for empty, truncated or foreign bytes instead of throwing', () => {
    const good = assignment(0, [['t', [0, 1]]], null);
    expect(decodeConsumerAssignment(Buffer.alloc(0))).toEqual([]);
    for (let cut = 1; cut < good.length - 4; cut++) expect(decodeConsumerAssignment(good.subarray(0, cut))).toEqual([]);
    expect(decodeConsumerAssignment(Buffer.from('not a consumer assignment at all'))).toEqual([]);
  });
});
