/** Encodes ConsumerProtocolSubscription bytes the way Kafka clients do (for tests). */
export function encodeSubscription(
  topics: readonly string[],
  opts: { version?: number; userData?: Buffer | null; owned?: ReadonlyArray<{ topic: string; partitions: number[] }>; generationId?: number; rackId?: string | null } = {},
): Buffer {
  const version = opts.version ?? 0;
  const parts: Buffer[] = [];
  const int16 = (n: number) => {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    parts.push(b);
  };
  const int32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    parts.push(b);
  };
  const str = (s: string | null) => {
    if (s === null) return int16(-1);
    const b = Buffer.from(s, 'utf8');
    int16(b.length);
    parts.push(b);
  };
  int16(version);
  int32(topics.length);
  for (const t of topics) str(t);
  const userData = opts.userData ?? null;
  if (userData === null) int32(-1);
  else {
    int32(userData.length);
    parts.push(userData);
  }
  if (version >= 1) {
    const owned = opts.owned ?? [];
    int32(owned.length);
    for (const o of owned) {
      str(o.topic);
      int32(o.partitions.length);
      for (const p of o.partitions) int32(p);
    }
  }
  if (version >= 2) int32(opts.generationId ?? -1);
  if (version >= 3) str(opts.rackId ?? null);
  return Buffer.concat(parts);
}
