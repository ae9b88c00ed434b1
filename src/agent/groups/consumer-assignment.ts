// The consumer protocol's Assignment (what a consumer group's leader hands each member in
// SyncGroup): version int16, [topic string, [partition int32]], user data bytes. The
// coordinator keeps it as opaque bytes; admin views decode it to show who reads what.

export interface AssignedPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

/**
 * The topics and partitions in a consumer-protocol assignment; [] for empty bytes or
 * bytes of another protocol that do not parse (never throws).
 */
export function decodeConsumerAssignment(bytes: Buffer): AssignedPartitions[] {
  try {
    if (bytes.length < 6) return [];
    let at = 2; // version: every version starts with the same topic list
    const topicCount = bytes.readInt32BE(at);
    at += 4;
    if (topicCount < 0 || topicCount > bytes.length) return [];
    const out: AssignedPartitions[] = [];
    for (let t = 0; t < topicCount; t++) {
      const nameLength = bytes.readInt16BE(at);
      at += 2;
      if (nameLength < 0 || at + nameLength > bytes.length) return [];
      const topic = bytes.toString('utf8', at, at + nameLength);
      at += nameLength;
      const count = bytes.readInt32BE(at);
      at += 4;
      if (count < 0 || at + count * 4 > bytes.length) return [];
      const partitions: number[] = [];
      for (let p = 0; p < count; p++, at += 4) partitions.push(bytes.readInt32BE(at));
      out.push({ topic, partitions: partitions.sort((a, b) => a - b) });
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
  } catch {
    return [];
  }
}

/** A consumer-protocol Assignment v0 of these partitions (no user data). */
export function encodeConsumerAssignment(assigned: readonly AssignedPartitions[]): Buffer {
  let size = 2 + 4 + 4;
  for (const a of assigned) size += 2 + Buffer.byteLength(a.topic, 'utf8') + 4 + 4 * a.partitions.length;
  const out = Buffer.alloc(size);
  let at = out.writeInt16BE(0, 0);
  at = out.writeInt32BE(assigned.length, at);
  for (const a of assigned) {
    at = out.writeInt16BE(Buffer.byteLength(a.topic, 'utf8'), at);
    at += out.write(a.topic, at, 'utf8');
    at = out.writeInt32BE(a.partitions.length, at);
    for (const p of a.partitions) at = out.writeInt32BE(p, at);
  }
  out.writeInt32BE(-1, at); // no user data
  return out;
}
