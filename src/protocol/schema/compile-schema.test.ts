import { describe, it, expect } from 'vitest';
import { compileMessage, defaultMessage } from './compile-schema.js';
import { inRange, type FieldSchema, type MessageSchema } from './schema-types.js';
import { GENERATED_APIS } from '../messages/generated/index.js';
import { Reader } from '../primitives/reader.js';
import { Writer } from '../primitives/writer.js';
import { ProtocolError } from '../protocol-error.js';
import { MetadataRequestSchema, MetadataResponseSchema } from '../messages/generated/metadata.js';

/** Deterministic PRNG so a failing case can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomValue(field: FieldSchema, version: number, rand: () => number, depth: number): unknown {
  const nullable = inRange(field.nullableVersions, version);
  if (nullable && rand() < 0.2) return null;
  if (field.array) {
    const n = depth > 3 ? 0 : Math.floor(rand() * 3);
    return Array.from({ length: n }, () => randomScalar(field, version, rand, depth + 1, false));
  }
  return randomScalar(field, version, rand, depth, nullable);
}

function randomScalar(field: FieldSchema, version: number, rand: () => number, depth: number, _nullable: boolean): unknown {
  const int = (bits: number) => Math.floor(rand() * 2 ** bits) - 2 ** (bits - 1);
  switch (field.type) {
    case 'bool':
      return rand() < 0.5;
    case 'int8':
      return int(8);
    case 'int16':
      return int(16);
    case 'uint16':
      return Math.floor(rand() * 65536);
    case 'int32':
      return int(32);
    case 'int64':
      return BigInt(int(32)) * 4294967296n + BigInt(Math.floor(rand() * 2 ** 32));
    case 'float64':
      return rand() * 1e6;
    case 'string':
      return ['', 'a', 'topic-é', 'x'.repeat(200)][Math.floor(rand() * 4)];
    case 'uuid':
      return 'f'.repeat(8) + '-0123-4567-89ab-' + Math.floor(rand() * 1e12).toString(16).padStart(12, '0');
    case 'bytes':
    case 'records':
      return Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)));
    case 'struct':
      return randomStruct(field.fields ?? [], version, rand, depth + 1);
  }
}

function randomStruct(fields: readonly FieldSchema[], version: number, rand: () => number, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) {
    if (inRange(f.versions, version)) o[f.name] = randomValue(f, version, rand, depth);
  }
  return o;
}

function versionsOf(schema: MessageSchema): number[] {
  const out: number[] = [];
  for (let v = schema.validVersions[0]; v <= schema.validVersions[1]; v++) out.push(v);
  return out;
}

describe('compiled schemas round-trip every API and version', () => {
  for (const api of GENERATED_APIS) {
    for (const schema of [api.request, api.response]) {
      it(`${schema.name} v${schema.validVersions[0]}-${schema.validVersions[1]}`, () => {
        for (const version of versionsOf(schema)) {
          const codec = compileMessage<Record<string, unknown>>(schema, version);
          const defaults = defaultMessage<Record<string, unknown>>(schema, version);
          for (let seed = 1; seed <= 12; seed++) {
            const rand = rng(seed * 1000 + version);
            const message = { ...defaults, ...randomStruct(schema.fields, version, rand, 0) };
            const w = new Writer(16);
            codec.encode(w, message);
            const bytes = Buffer.from(w.toBuffer());
            const r = new Reader(bytes);
            const decoded = codec.decode(r);
            expect(r.remaining, `${schema.name} v${version} leftover`).toBe(0);
            // re-encoding the decoded object gives the same bytes (fields outside the version are dropped)
            const w2 = new Writer(16);
            codec.encode(w2, decoded);
            expect(w2.toBuffer().equals(bytes), `${schema.name} v${version} seed ${seed}`).toBe(true);
            for (const f of schema.fields) {
              if (inRange(f.versions, version) && f.type !== 'struct' && !f.array) {
                expect(decoded[f.name], `${schema.name} v${version} ${f.name}`).toEqual(message[f.name]);
              }
            }
          }
        }
      });
    }
  }
});

describe('known encodings', () => {
  it('encodes a Metadata v1 request for all topics as a null array', () => {
    const w = new Writer();
    compileMessage(MetadataRequestSchema, 1).encode(w, { topics: null, allowAutoTopicCreation: true });
    expect(w.toBuffer().toString('hex')).toBe('ffffffff');
  });

  it('encodes a Metadata v9 request (flexible): compact array, compact strings, tagged fields', () => {
    const w = new Writer();
    compileMessage(MetadataRequestSchema, 9).encode(w, {
      topics: [{ name: 'ab' }],
      allowAutoTopicCreation: true,
      includeTopicAuthorizedOperations: false,
    });
    // topics: len+1=2, name: len+1=3 'ab', topic tags 0, allowAuto 1, includeClusterAuth 0 (v8-10), includeTopicAuth 0, tags 0
    expect(w.toBuffer().toString('hex')).toBe('02' + '03' + '6162' + '00' + '01' + '00' + '00' + '00');
  });

  it('decodes absent fields to their Kafka defaults', () => {
    const m = compileMessage<Record<string, unknown>>(MetadataResponseSchema, 0).decode(new Reader(Buffer.from('0000000000000000', 'hex')));
    expect(m).toMatchObject({ brokers: [], topics: [], controllerId: -1, clusterId: null, throttleTimeMs: 0 });
  });
});

describe('hostile input', () => {
  it('rejects an array count larger than the bytes left without allocating', () => {
    const codec = compileMessage(MetadataRequestSchema, 1);
    const bytes = Buffer.from('7fffffff00', 'hex');
    expect(() => codec.decode(new Reader(bytes))).toThrowError(ProtocolError);
    try {
      codec.decode(new Reader(bytes));
    } catch (e) {
      expect((e as ProtocolError).path).toBe('topics');
      expect((e as Error).message).toMatch(/array length 2147483647 exceeds/);
    }
  });

  it('names the path of a truncated nested field', () => {
    const codec = compileMessage(MetadataRequestSchema, 1);
    // one topic whose name claims 5 bytes but has 2
    const bytes = Buffer.from('00000001' + '0005' + '6162', 'hex');
    expect(() => codec.decode(new Reader(bytes))).toThrowError(/^topics\[0\]\.name: needs 5 bytes/);
  });
});
