import { crc32c } from '@node-rs/crc32';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../local/local-object-store.js';
import { MemoryObjectStore } from '../memory/memory-object-store.js';
import type { ByteRange, ObjectStore, SuffixRange } from '../object-store.js';
import { isStorageError } from '../storage-errors.js';
import type { SegmentChunkInput } from './segment-format.js';
import { parseSegment, readSegmentChunk, readSegmentFooter } from './segment-reader.js';
import { buildSegment } from './segment-writer.js';

function bytes(length: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 31 + seed * 17) & 0xff;
  return buf;
}

const SAMPLE: Array<SegmentChunkInput & { data: Buffer }> = [
  { topic: 'orders', partition: 0, baseOffset: 0n, lastOffset: 9n, maxTimestamp: 1_700_000_000_123n, recordCount: 10, data: bytes(700, 1) },
  { topic: 'orders', partition: 7, baseOffset: 500n, lastOffset: 504n, maxTimestamp: -1n, recordCount: 3, data: bytes(61, 2) },
  { topic: 'événements.ü', partition: 2, baseOffset: 2n ** 40n, lastOffset: 2n ** 40n + 1n, maxTimestamp: 5n, recordCount: 2, data: bytes(1, 3) },
];

function expectCorrupt(fn: () => unknown, messagePart?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(isStorageError(caught, 'SEGMENT_CORRUPT'), `expected SEGMENT_CORRUPT, got ${String(caught)}`).toBe(true);
  if (messagePart !== undefined) expect((caught as Error).message).toContain(messagePart);
}

async function expectCorruptAsync(promise: Promise<unknown>, messagePart?: string): Promise<void> {
  const caught = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isStorageError(caught, 'SEGMENT_CORRUPT'), `expected SEGMENT_CORRUPT, got ${String(caught)}`).toBe(true);
  if (messagePart !== undefined) expect((caught as Error).message).toContain(messagePart);
}

/** Rewrites the footer CRC so a test can reach the checks that come after it. */
function resealFooter(body: Buffer): void {
  const footerOffset = Number(body.readBigUInt64BE(body.length - 24));
  const footerLength = body.readUInt32BE(body.length - 16);
  const crc = crc32c(
    body.subarray(body.length - 24, body.length - 12),
    crc32c(body.subarray(footerOffset, footerOffset + footerLength)),
  );
  body.writeUInt32BE(crc, body.length - 12);
}

/** Records every GET so tests can assert how a reader touched the store. */
class CountingStore implements ObjectStore {
  readonly gets: Array<ByteRange | SuffixRange | undefined> = [];
  constructor(private readonly inner: ObjectStore) {}
  put(key: string, body: Buffer) {
    return this.inner.put(key, body);
  }
  get(key: string, range?: ByteRange | SuffixRange) {
    this.gets.push(range);
    return this.inner.get(key, range);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  list(prefix?: string) {
    return this.inner.list(prefix);
  }
  close() {
    return this.inner.close();
  }
}

describe('segment round trip', () => {
  it('parses back every chunk and its metadata', () => {
    const built = buildSegment(SAMPLE);
    const parsed = parseSegment(built.body);
    expect(parsed.version).toBe(1);
    expect(parsed.footerOffset).toBe(8 + 700 + 61 + 1);
    expect(parsed.footerOffset + parsed.footerLength + 24).toBe(built.body.length);
    expect(parsed.chunks.map(({ data, ...entry }) => entry)).toEqual(built.chunks);
    for (const [i, c] of parsed.chunks.entries()) {
      expect(c.data.equals(SAMPLE[i]!.data)).toBe(true);
      expect(c.topic).toBe(SAMPLE[i]!.topic);
      expect(c.baseOffset).toBe(SAMPLE[i]!.baseOffset);
      expect(c.lastOffset).toBe(SAMPLE[i]!.lastOffset);
      expect(c.maxTimestamp).toBe(SAMPLE[i]!.maxTimestamp);
      expect(c.recordCount).toBe(SAMPLE[i]!.recordCount);
    }
  });

  it('round-trips an empty segment', () => {
    const parsed = parseSegment(buildSegment([]).body);
    expect(parsed.chunks).toEqual([]);
    expect(parsed.footerOffset).toBe(8);
    expect(parsed.footerLength).toBe(4);
  });

  it('reads the footer from a store with one trailer GET and one footer GET', async () => {
    const store = new CountingStore(new MemoryObjectStore());
    const built = buildSegment(SAMPLE);
    await store.put('seg', built.body);
    const footer = await readSegmentFooter(store, 'seg');
    expect(footer.chunks).toEqual(built.chunks);
    expect(store.gets).toEqual([
      { suffixLength: 24 },
      { start: footer.footerOffset, end: footer.footerOffset + footer.footerLength },
    ]);
  });

  it('handles 1,000 chunks across many topics and partitions', async () => {
    const inputs: SegmentChunkInput[] = [];
    for (let i = 0; i < 1000; i++) {
      inputs.push({
        topic: `topic-${i % 10}`,
        partition: Math.floor(i / 10),
        baseOffset: BigInt(i * 1000),
        lastOffset: BigInt(i * 1000 + (i % 5)),
        maxTimestamp: BigInt(1_700_000_000_000 + i),
        recordCount: (i % 5) + 1,
        data: bytes(20 + (i % 97), i),
      });
    }
    const built = buildSegment(inputs);
    const parsed = parseSegment(built.body);
    expect(parsed.chunks.length).toBe(1000);
    let expectedOffset = 8;
    for (const [i, c] of parsed.chunks.entries()) {
      expect(c.topic).toBe(`topic-${i % 10}`);
      expect(c.partition).toBe(Math.floor(i / 10));
      expect(c.baseOffset).toBe(BigInt(i * 1000));
      expect(c.lastOffset).toBe(BigInt(i * 1000 + (i % 5)));
      expect(c.maxTimestamp).toBe(BigInt(1_700_000_000_000 + i));
      expect(c.recordCount).toBe((i % 5) + 1);
      expect(c.byteOffset).toBe(expectedOffset);
      expect(c.data.equals(inputs[i]!.data as Buffer)).toBe(true);
      expectedOffset += c.byteLength;
    }
    // Footer: 4-byte count plus 50 fixed bytes and the 7-byte topic name per entry.
    expect(parsed.footerLength).toBe(4 + 1000 * 57);

    const store = new CountingStore(new MemoryObjectStore());
    await store.put('many', built.body);
    const footer = await readSegmentFooter(store, 'many');
    expect(footer.chunks).toEqual(built.chunks);
    expect(store.gets.length).toBe(2);
  });
});

describe('reading one chunk from the local store', () => {
  it('fetches exactly the chunk byte range and verifies it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sh-seg-'));
    try {
      const local = await LocalObjectStore.open(dir);
      const store = new CountingStore(local);
      const built = buildSegment(SAMPLE);
      await store.put('ab/agent/1.seg', built.body);

      const footer = await readSegmentFooter(store, 'ab/agent/1.seg');
      const entry = footer.chunks[1]!;
      expect(entry.byteOffset).toBe(708);
      expect(entry.byteLength).toBe(61);
      store.gets.length = 0;
      const data = await readSegmentChunk(store, 'ab/agent/1.seg', entry);
      expect(data.equals(SAMPLE[1]!.data)).toBe(true);
      expect(store.gets).toEqual([{ start: 708, end: 769 }]);
      await local.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a chunk whose bytes changed on disk', async () => {
    const store = new MemoryObjectStore();
    const built = buildSegment(SAMPLE);
    const damaged = Buffer.from(built.body);
    damaged[8 + 700 + 30]! ^= 0x01; // inside chunk 1
    await store.put('seg', damaged);
    const footer = await readSegmentFooter(store, 'seg');
    expect((await readSegmentChunk(store, 'seg', footer.chunks[0]!)).equals(SAMPLE[0]!.data)).toBe(true);
    await expectCorruptAsync(readSegmentChunk(store, 'seg', footer.chunks[1]!), 'CRC-32C mismatch');
  });
});

describe('corruption detection', () => {
  const built = buildSegment(SAMPLE);
  const { footerOffset, footerLength } = parseSegment(built.body);
  const copy = () => Buffer.from(built.body);

  it('detects any flipped bit in the footer', () => {
    for (let i = footerOffset; i < footerOffset + footerLength; i += 7) {
      const body = copy();
      body[i]! ^= 0x10;
      expectCorrupt(() => parseSegment(body), 'footer CRC-32C mismatch');
    }
  });

  it('detects a wrong stored footer CRC', () => {
    const body = copy();
    body[body.length - 10]! ^= 0xff;
    expectCorrupt(() => parseSegment(body), 'footer CRC-32C mismatch');
  });

  it('detects a damaged trailer offset or length', async () => {
    const movedOffset = copy();
    movedOffset.writeBigUInt64BE(BigInt(footerOffset - 1), movedOffset.length - 24);
    expectCorrupt(() => parseSegment(movedOffset), 'does not end');
    const store = new MemoryObjectStore();
    await store.put('moved', movedOffset);
    // Without the object size, the footer CRC (which covers the trailer's offset and
    // length) is what catches it.
    await expectCorruptAsync(readSegmentFooter(store, 'moved'), 'footer CRC-32C mismatch');

    const pastEnd = copy();
    pastEnd.writeBigUInt64BE(10_000n, pastEnd.length - 24);
    await store.put('past-end', pastEnd);
    await expectCorruptAsync(readSegmentFooter(store, 'past-end'), 'beyond the object');
  });

  it('detects bad magic, version and flags', () => {
    const cases: Array<[number, number, string]> = [
      [0, 0x00, 'header magic'],
      [5, 0x02, 'unsupported segment format version 2'],
      [7, 0x01, 'header flags'],
      [built.body.length - 1, 0x00, 'trailer magic'],
      [built.body.length - 7, 0x02, 'unsupported segment format version 2'],
      [built.body.length - 5, 0x01, 'trailer flags'],
    ];
    for (const [index, value, message] of cases) {
      const body = copy();
      body[index] = value;
      expectCorrupt(() => parseSegment(body), message);
    }
  });

  it('detects a damaged chunk unless chunk verification is off', () => {
    const body = copy();
    body[10]! ^= 0x80;
    expectCorrupt(() => parseSegment(body), 'chunk orders-0@0');
    const parsed = parseSegment(body, { verifyChunks: false });
    expect(parsed.chunks[0]!.data[2]).toBe(SAMPLE[0]!.data[2]! ^ 0x80);
  });

  it('rejects entries that point outside the data region even with a valid CRC', () => {
    // Entry 0's byteLength sits 40 bytes after its topic name; point it into the footer.
    const lengthPos = footerOffset + 4 + 2 + 'orders'.length + 40;
    const body = copy();
    expect(body.readUInt32BE(lengthPos)).toBe(700);
    body.writeUInt32BE(footerOffset, lengthPos);
    resealFooter(body);
    expectCorrupt(() => parseSegment(body), 'outside the data region');
  });

  it('rejects an entry count larger than the footer can hold', () => {
    const body = copy();
    body.writeUInt32BE(4, footerOffset);
    resealFooter(body);
    expectCorrupt(() => parseSegment(body), 'claims 4 entries');
    const fewer = copy();
    fewer.writeUInt32BE(2, footerOffset);
    resealFooter(fewer);
    expectCorrupt(() => parseSegment(fewer), 'unexpected trailing bytes');
  });

  it('rejects inconsistent offsets and record counts with a valid CRC', () => {
    const basePos = footerOffset + 4 + 2 + 'orders'.length + 4;
    const body = copy();
    body.writeBigInt64BE(100n, basePos); // baseOffset 100 > lastOffset 9
    resealFooter(body);
    expectCorrupt(() => parseSegment(body), 'bad offsets 100..9');
  });
});

describe('truncated objects', () => {
  const built = buildSegment(SAMPLE);

  it('rejects every truncation of the object', () => {
    for (const length of [0, 1, 8, 20, 24, 35, 36, built.body.length - 25, built.body.length - 24, built.body.length - 1]) {
      expectCorrupt(() => parseSegment(built.body.subarray(0, length)));
    }
  });

  it('rejects a truncated object read through the store', async () => {
    const store = new MemoryObjectStore();
    await store.put('cut', built.body.subarray(0, built.body.length - 1));
    await expectCorruptAsync(readSegmentFooter(store, 'cut'), 'trailer magic');
    await store.put('tiny', built.body.subarray(0, 10));
    await expectCorruptAsync(readSegmentFooter(store, 'tiny'), 'shorter than the 24-byte trailer');
    await store.put('empty', Buffer.alloc(0));
    await expectCorruptAsync(readSegmentFooter(store, 'empty'), 'shorter than the 24-byte trailer');
  });

  it('reports a missing object as OBJECT_NOT_FOUND, not corruption', async () => {
    const err = await readSegmentFooter(new MemoryObjectStore(), 'nope').catch((e: unknown) => e);
    expect(isStorageError(err, 'OBJECT_NOT_FOUND')).toBe(true);
  });
});
