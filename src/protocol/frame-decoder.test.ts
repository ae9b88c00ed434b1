import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest } from './api-codec.js';
import { ProtocolError } from './protocol-error.js';
import { FrameDecoder } from './frame-decoder.js';

const MAX = 100 * 1024 * 1024;

/** A real Metadata v9 request as a client would put it on the wire (length prefix included). */
function metadataFrame(correlationId: number, topics: string[]): Buffer {
  return encodeRequest(
    { apiKey: 3, apiVersion: 9, correlationId, clientId: 'frame-test' },
    { topics: topics.map((name) => ({ name })), allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false },
  );
}

function sizePrefix(size: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(size, 0);
  return b;
}

describe('FrameDecoder', () => {
  const wire = metadataFrame(7, ['orders', 'payments']);
  const body = wire.subarray(4);

  it('the sample frame is a real request', () => {
    expect(wire.readInt32BE(0)).toBe(wire.length - 4);
    const decoded = decodeRequest(body);
    expect(decoded.header).toEqual({ apiKey: 3, apiVersion: 9, correlationId: 7, clientId: 'frame-test' });
    expect((decoded.body as { topics: Array<{ name: string }> }).topics.map((t) => t.name)).toEqual(['orders', 'payments']);
  });

  it('yields exactly one identical frame whatever offset the stream is split at', () => {
    for (let cut = 0; cut <= wire.length; cut++) {
      const decoder = new FrameDecoder(MAX);
      const first = decoder.push(Buffer.from(wire.subarray(0, cut)));
      const second = decoder.push(Buffer.from(wire.subarray(cut)));
      const frames = [...first, ...second];
      expect(frames, `cut at ${cut}`).toHaveLength(1);
      expect(frames[0]!.equals(body), `cut at ${cut}`).toBe(true);
      // the frame arrives with the chunk that completes it, not before
      expect(first, `cut at ${cut}`).toHaveLength(cut === wire.length ? 1 : 0);
      expect(decoder.pendingBytes).toBe(0);
    }
  });

  it('yields the frame when it arrives one byte at a time', () => {
    const decoder = new FrameDecoder(MAX);
    const frames: Buffer[] = [];
    for (let i = 0; i < wire.length; i++) {
      const out = decoder.push(Buffer.from([wire[i]!]));
      if (i < wire.length - 1) {
        expect(out).toHaveLength(0);
        // the size prefix is consumed once complete; body bytes are counted as they come
        expect(decoder.pendingBytes).toBe(i < 3 ? i + 1 : i + 1 - 4);
      }
      frames.push(...out);
    }
    expect(frames).toHaveLength(1);
    expect(frames[0]!.equals(body)).toBe(true);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('yields every frame of a chunk in order and keeps a trailing partial frame', () => {
    const a = metadataFrame(1, ['a']);
    const b = metadataFrame(2, ['bb', 'ccc']);
    const c = metadataFrame(3, []);
    const d = metadataFrame(4, ['dddd']);
    const decoder = new FrameDecoder(MAX);
    const frames = decoder.push(Buffer.concat([a, b, c, d.subarray(0, 10)]));
    expect(frames.map((f) => f.readInt32BE(4))).toEqual([1, 2, 3]);
    expect(frames[0]!.equals(a.subarray(4))).toBe(true);
    expect(frames[1]!.equals(b.subarray(4))).toBe(true);
    expect(frames[2]!.equals(c.subarray(4))).toBe(true);
    expect(decoder.pendingBytes).toBe(6);
    const rest = decoder.push(d.subarray(10));
    expect(rest).toHaveLength(1);
    expect(rest[0]!.equals(d.subarray(4))).toBe(true);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('yields an empty frame for size 0 and carries on with the next one', () => {
    const decoder = new FrameDecoder(MAX);
    const frames = decoder.push(Buffer.concat([sizePrefix(0), sizePrefix(0), wire]));
    expect(frames.map((f) => f.length)).toEqual([0, 0, body.length]);
    expect(frames[2]!.equals(body)).toBe(true);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('rejects a negative size', () => {
    const decoder = new FrameDecoder(MAX);
    expect(() => decoder.push(sizePrefix(-1))).toThrow(ProtocolError);
    expect(() => new FrameDecoder(MAX).push(Buffer.from([0x80, 0, 0, 0]))).toThrow('frame size -2147483648 is outside 0..104857600');
  });

  it('rejects a size above the maximum only once the prefix is complete, and accepts the maximum', () => {
    const decoder = new FrameDecoder(1000);
    const prefix = sizePrefix(1001);
    expect(decoder.push(prefix.subarray(0, 3))).toEqual([]);
    expect(() => decoder.push(prefix.subarray(3))).toThrow('frame size 1001 is outside 0..1000 (socket.request.max.bytes)');

    const atMax = new FrameDecoder(1000);
    expect(atMax.push(sizePrefix(1000))).toEqual([]);
    const frames = atMax.push(Buffer.alloc(1000, 0x5a));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.length).toBe(1000);
  });

  it('holds only the bytes received when a length prefix lies about a huge frame', () => {
    const decoder = new FrameDecoder(MAX);
    const before = process.memoryUsage().arrayBuffers;
    expect(decoder.push(Buffer.concat([sizePrefix(MAX), Buffer.from('abc')]))).toEqual([]);
    expect(decoder.pendingBytes).toBe(3);
    for (let i = 0; i < 256; i++) expect(decoder.push(Buffer.alloc(1024, i))).toEqual([]);
    expect(decoder.pendingBytes).toBe(3 + 256 * 1024);
    // 100 MiB announced, ~256 KiB received: nothing close to the announced size was allocated
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('a prefix split across chunks is read correctly when the frame body is already there', () => {
    const decoder = new FrameDecoder(MAX);
    expect(decoder.push(wire.subarray(0, 1))).toEqual([]);
    expect(decoder.push(wire.subarray(1, 2))).toEqual([]);
    expect(decoder.pendingBytes).toBe(2);
    const frames = decoder.push(Buffer.concat([wire.subarray(2), wire]));
    expect(frames).toHaveLength(2);
    expect(frames.every((f) => f.equals(body))).toBe(true);
    expect(decoder.pendingBytes).toBe(0);
  });
});
