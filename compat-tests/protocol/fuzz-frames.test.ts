/**
 * Throws 1,000 malformed, mutated and random frames at a real broker process while two
 * well-behaved clients (a raw-socket Metadata loop and a kafkajs admin) keep working on their
 * own connections. The generator is seeded: FUZZ_SEED=<n> replays a run exactly.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { decodeResponse, encodeRequest, encodeResponse } from '../../src/protocol/api-codec.js';
import type { ApiVersionsResponseApiVersion } from '../../src/protocol/messages/generated/api-versions.js';
import type { MetadataResponse } from '../../src/protocol/messages/generated/metadata.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import { buildRecordBatch } from '../../src/protocol/records/record-codec.js';
import { loadFixture } from '../../src/protocol/golden/test-support/golden-fixture.js';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1234);
const CASES = 1000;
const WORKERS = 8;
const MAX_REQUEST_BYTES = 100 * 1024 * 1024; // socket.request.max.bytes default
const WATCH_TOPIC = 'fuzz-watch';
const WATCH_PARTITIONS = 3;
const RSS_GROWTH_LIMIT = 300 * 1024 * 1024;

/** mulberry32: tiny, fast, and the same sequence on every machine for a given seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    range: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    bytes: (n: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
}
type Rng = ReturnType<typeof prng>;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

function sizePrefixed(body: Buffer, size = body.length): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(size, 0);
  return Buffer.concat([prefix, body]);
}


// ---------------------------------------------------------------------------------------
// A raw client connection that records what the broker sends back and whether it hung up.

interface ConnectionOutcome {
  responses: Buffer[];
  closedByBroker: boolean;
  malformedResponse: string | null;
}

class RawConnection {
  readonly outcome: ConnectionOutcome = { responses: [], closedByBroker: false, malformedResponse: null };
  private readonly decoder = new FrameDecoder(1 << 30);
  private readonly socket: Socket;
  private waiters: Array<() => void> = [];
  private closed = false;
  private readonly opened: Promise<void>;

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.setNoDelay(true);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
    this.socket.on('data', (chunk: Buffer) => {
      try {
        for (const f of this.decoder.push(chunk)) this.outcome.responses.push(f);
      } catch (e) {
        this.outcome.malformedResponse = e instanceof Error ? e.message : String(e);
      }
      this.wake();
    });
    this.socket.on('error', () => {
      // ECONNRESET/EPIPE when the broker drops us mid-write: the close event records it
    });
    this.socket.on('close', () => {
      if (!this.closed) this.outcome.closedByBroker = true;
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  async write(chunks: Buffer[]): Promise<void> {
    await this.opened;
    for (const c of chunks) {
      if (this.closed) return;
      this.socket.write(c);
      if (chunks.length > 1) await new Promise((r) => setImmediate(r));
    }
  }

  /** Waits until `done()` holds, the broker hangs up, or `ms` pass. */
  async settle(done: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done() && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------------------
// The frames: real client requests (golden fixtures) plus requests we build, then mutations.

interface BaseFrame {
  readonly label: string;
  readonly wire: Buffer;
}

function baseFrames(): BaseFrame[] {
  const frames = new Map<string, BaseFrame>();
  for (const name of ['kcat', 'kafkajs', 'kafka-python', 'confluent-kafka-python', 'platformatic-kafka']) {
    for (const e of loadFixture(name).exchanges) {
      if (!frames.has(e.request)) frames.set(e.request, { label: `${name} ${e.api} v${e.apiVersion}`, wire: Buffer.from(e.request, 'hex') });
    }
  }
  const add = (label: string, apiKey: number, apiVersion: number, body: unknown) => {
    const wire = encodeRequest({ apiKey, apiVersion, correlationId: 7000 + frames.size, clientId: 'fuzz' }, body);
    frames.set(wire.toString('hex'), { label, wire });
  };
  const batch = buildRecordBatch({ baseOffset: 0n, records: [{ key: Buffer.from('k'), value: Buffer.from('fuzz value'), timestamp: 1700000000000n }] });
  for (const v of [3, 7, 9]) {
    add(`Produce v${v}`, 0, v, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 'fz-produce', partitionData: [{ index: 0, records: batch }] }] });
  }
  add('Metadata v9 named', 3, 9, { topics: [{ name: WATCH_TOPIC }, { name: 'fz-meta' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  add('Metadata v0 named', 3, 0, { topics: [{ name: WATCH_TOPIC }] });
  add('CreateTopics v7 validateOnly', 19, 7, {
    topics: [{ name: 'fz-new', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '1000' }] }],
    timeoutMs: 1000,
    validateOnly: true,
  });
  add('CreateTopics v5', 19, 5, { topics: [{ name: 'fz-created', numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
  add('DeleteTopics v6', 20, 6, { topics: [{ name: 'fz-absent', topicId: '00000000-0000-0000-0000-000000000000' }], timeoutMs: 1000 });
  add('CreatePartitions v3', 37, 3, { topics: [{ name: 'fz-absent', count: 2, assignments: null }], timeoutMs: 1000, validateOnly: false });
  add('DescribeConfigs v4 broker', 32, 4, { resources: [{ resourceType: 4, resourceName: '0', configurationKeys: null }], includeSynonyms: true, includeDocumentation: true });
  add('DescribeCluster v1', 60, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
  add('DescribeCluster v0', 60, 0, { includeClusterAuthorizedOperations: true });
  add('ApiVersions v4', 18, 4, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1.0' });
  return [...frames.values()];
}

/** A request header (v1 or v2) for a crafted body. */
function header(apiKey: number, apiVersion: number, correlationId: number, flexible: boolean): Buffer {
  const w = new Writer(64);
  w.writeInt16(apiKey).writeInt16(apiVersion).writeInt32(correlationId).writeNullableString('fuzz', false);
  if (flexible) w.writeUnsignedVarint(0);
  return w.toBuffer();
}

/** A varint that decodes to `n` (n < 2^32). */
function varint(n: number): Buffer {
  const w = new Writer(8);
  w.writeUnsignedVarint(n);
  return w.toBuffer();
}

type Expectation =
  /** exactly one response, with this correlation id; the connection stays open */
  | { kind: 'answered'; correlationId: number }
  /** the broker hangs up without sending a byte */
  | { kind: 'closed' }
  /** the broker waits for the rest of the frame: no bytes, no hang-up */
  | { kind: 'waiting' }
  /** anything but a crash; responses (if any) carry the frame's correlation id */
  | { kind: 'any'; correlationId: number | null };

interface FuzzCase {
  readonly index: number;
  readonly kind: string;
  readonly detail: string;
  readonly bytes: Buffer;
  /** Whether the size prefix matches the bytes that follow (the broker sees this frame alone). */
  readonly framed: boolean;
  readonly expect: Expectation;
}

interface Advertised {
  has(apiKey: number, apiVersion: number): boolean;
  readonly list: ApiVersionsResponseApiVersion[];
}

function makeCase(rng: Rng, index: number, pool: BaseFrame[], advertised: Advertised): FuzzCase {
  const base = rng.pick(pool);
  const body = base.wire.subarray(4);
  const apiKey = body.readInt16BE(0);
  const apiVersion = body.readInt16BE(2);
  const corr = body.readInt32BE(4);
  const validExpect: Expectation = advertised.has(apiKey, apiVersion) ? { kind: 'answered', correlationId: corr } : { kind: 'closed' };
  const roll = rng.next();
  const mk = (kind: string, detail: string, bytes: Buffer, expect: Expectation, framed = true): FuzzCase => ({ index, kind, detail, bytes, framed, expect });

  if (roll < 0.06) return mk('valid', base.label, base.wire, validExpect);
  if (roll < 0.3) {
    const mutated = Buffer.from(body);
    const flips = rng.range(1, 8);
    const at: number[] = [];
    for (let i = 0; i < flips; i++) {
      const bit = rng.int(mutated.length * 8);
      at.push(bit);
      mutated[bit >> 3]! ^= 1 << (bit & 7);
    }
    return mk('bitflip', `${base.label} bits ${at.join(',')}`, sizePrefixed(mutated), { kind: 'any', correlationId: mutated.length >= 8 ? mutated.readInt32BE(4) : null });
  }
  if (roll < 0.42) {
    const keep = rng.int(body.length);
    return mk('truncated', `${base.label} to ${keep}/${body.length} bytes`, sizePrefixed(body.subarray(0, keep)), { kind: 'closed' });
  }
  if (roll < 0.48) {
    // the prefix says less than was sent: the frame is cut and its tail is read as the next one
    const cut = rng.range(1, Math.min(body.length, 12));
    return mk('prefix-short', `${base.label} prefix -${cut}`, sizePrefixed(body, body.length - cut), { kind: 'closed' }, false);
  }
  if (roll < 0.55) {
    const claim = rng.next() < 0.5 ? body.length + rng.range(1, 4096) : rng.range(body.length + 1, MAX_REQUEST_BYTES);
    return mk('prefix-long', `${base.label} prefix ${claim} for ${body.length} bytes`, sizePrefixed(body, claim), { kind: 'waiting' }, false);
  }
  if (roll < 0.58) {
    const claim = rng.pick([MAX_REQUEST_BYTES + 1, MAX_REQUEST_BYTES + rng.range(2, 1 << 20), 0x7fffffff, -1, -rng.range(2, 0x7fffffff)]);
    return mk('prefix-out-of-range', `prefix ${claim}`, sizePrefixed(rng.bytes(rng.int(64)), claim), { kind: 'closed' }, false);
  }
  if (roll < 0.7) {
    // a valid header, then an array count far beyond the bytes that follow
    const target = rng.pick([
      { apiKey: 3, apiVersion: 4, flexible: false },
      { apiKey: 3, apiVersion: 9, flexible: true },
      { apiKey: 19, apiVersion: 3, flexible: false },
      { apiKey: 19, apiVersion: 7, flexible: true },
      { apiKey: 20, apiVersion: 1, flexible: false },
      { apiKey: 32, apiVersion: 2, flexible: false },
      { apiKey: 32, apiVersion: 4, flexible: true },
      { apiKey: 37, apiVersion: 1, flexible: false },
    ]);
    const c = rng.range(1, 0x7fffffff);
    let count: Buffer;
    let countText: string;
    if (target.flexible) {
      const n = rng.pick([0xffffffff, 0x7fffffff, 1 << 24, 100000]);
      count = varint(n);
      countText = `compact ${n - 1}`;
    } else {
      const n = rng.pick([0x7fffffff, 1 << 30, 1 << 24, 100000, -2, -0x80000000]);
      count = Buffer.alloc(4);
      count.writeInt32BE(n, 0);
      countText = String(n);
    }
    const frame = Buffer.concat([header(target.apiKey, target.apiVersion, c, target.flexible), count, rng.bytes(rng.int(48))]);
    return mk('huge-array', `api ${target.apiKey} v${target.apiVersion} count ${countText}`, sizePrefixed(frame), { kind: 'closed' });
  }
  if (roll < 0.78) {
    const key = rng.next() < 0.5 ? rng.range(1000, 32767) : -rng.range(1, 32768);
    const frame = Buffer.concat([header(key, rng.int(20), rng.range(0, 0x7fffffff), false), rng.bytes(rng.int(64))]);
    return mk('unknown-api', `api key ${key}`, sizePrefixed(frame), { kind: 'closed' });
  }
  if (roll < 0.86) {
    const api = rng.pick(advertised.list);
    const version = rng.next() < 0.7 ? api.maxVersion + rng.range(1, 300) : -rng.range(1, 32768);
    const c = rng.range(0, 0x7fffffff);
    const frame = Buffer.concat([header(api.apiKey, version, c, false), rng.bytes(rng.int(32))]);
    // only ApiVersions answers an unsupported version (with error 35); others hang up
    const expect: Expectation = api.apiKey === 18 ? { kind: 'answered', correlationId: c } : { kind: 'closed' };
    return mk('bad-version', `api ${api.apiKey} v${version}`, sizePrefixed(frame), expect);
  }
  if (roll < 0.96) {
    const junk = rng.bytes(rng.range(8, 512));
    return mk('random', `${junk.length} random bytes`, sizePrefixed(junk), { kind: 'any', correlationId: junk.readInt32BE(4) });
  }
  const tiny = rng.bytes(rng.int(8));
  return mk('short-header', `${tiny.length}-byte frame`, sizePrefixed(tiny), { kind: 'closed' });
}

/** Splits bytes at random points so frames cross TCP segments. */
function chop(rng: Rng, bytes: Buffer): Buffer[] {
  if (rng.next() < 0.6 || bytes.length < 2) return [bytes];
  const out: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const n = Math.min(bytes.length - at, rng.range(1, Math.max(1, Math.floor(bytes.length / 2))));
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

function describeCase(c: FuzzCase): string {
  const hex = c.bytes.length > 96 ? `${c.bytes.subarray(0, 96).toString('hex')}…(${c.bytes.length} bytes)` : c.bytes.toString('hex');
  return `seed ${SEED} case ${c.index} [${c.kind}] ${c.detail}: ${hex}`;
}

/** Checks one single-case connection against its expectation; returns problems found. */
function judge(c: FuzzCase, conn: RawConnection): string[] {
  const o = conn.outcome;
  const problems: string[] = [];
  if (o.malformedResponse) problems.push(`malformed response: ${o.malformedResponse}`);
  const corrs = o.responses.map((r) => r.readInt32BE(0));
  switch (c.expect.kind) {
    case 'answered':
      if (corrs.length !== 1 || corrs[0] !== c.expect.correlationId) problems.push(`expected one response #${c.expect.correlationId}, got [${corrs.join(',')}]`);
      if (o.closedByBroker) problems.push('broker closed a connection it should have kept');
      break;
    case 'closed':
      if (!o.closedByBroker) problems.push('broker kept the connection open');
      if (corrs.length > 0) problems.push(`expected no response, got [${corrs.join(',')}]`);
      break;
    case 'waiting':
      if (o.closedByBroker) problems.push('broker closed while the frame was still incomplete');
      if (corrs.length > 0) problems.push(`expected no response, got [${corrs.join(',')}]`);
      break;
    case 'any':
      if (corrs.length > 1) problems.push(`one frame, ${corrs.length} responses`);
      if (corrs.length === 1 && corrs[0] !== c.expect.correlationId) problems.push(`response #${corrs[0]} for request #${c.expect.correlationId}`);
      break;
  }
  return problems.map((p) => `${describeCase(c)}: ${p}`);
}

async function runSingle(port: number, rng: Rng, c: FuzzCase): Promise<string[]> {
  const conn = new RawConnection(port);
  try {
    await conn.write(chop(rng, c.bytes));
    const e = c.expect;
    if (e.kind === 'answered') await conn.settle(() => conn.outcome.responses.length >= 1, 10000);
    else if (e.kind === 'closed') await conn.settle(() => false, 10000);
    else await conn.settle(() => conn.outcome.responses.length >= 1, e.kind === 'waiting' ? 300 : 250);
    // a little longer, to catch a second response or a late hang-up
    if (!conn.isClosed) await conn.settle(() => false, 30);
    return judge(c, conn);
  } finally {
    conn.close();
  }
}

/** Several framed cases on one connection: answers come back in request order. */
async function runPipelined(port: number, rng: Rng, cases: FuzzCase[]): Promise<string[]> {
  const conn = new RawConnection(port);
  try {
    const all = Buffer.concat(cases.map((c) => c.bytes));
    await conn.write(chop(rng, all));
    const answerable = cases.every((c) => c.expect.kind === 'answered');
    await conn.settle(() => conn.outcome.responses.length >= cases.length, answerable ? 10000 : 300);
    if (!conn.isClosed) await conn.settle(() => false, 30);
    const sent = cases.map((c) => c.bytes.subarray(4).length >= 8 ? c.bytes.readInt32BE(8) : null);
    const got = conn.outcome.responses.map((r) => r.readInt32BE(0));
    const where = `seed ${SEED} cases ${cases.map((c) => `${c.index}[${c.kind}]`).join(' ')}`;
    const problems: string[] = [];
    if (conn.outcome.malformedResponse) problems.push(`${where}: malformed response: ${conn.outcome.malformedResponse}`);
    let j = 0;
    for (const corr of got) {
      while (j < sent.length && sent[j] !== corr) j++;
      if (j === sent.length) {
        problems.push(`${where}: responses [${got.join(',')}] are not an in-order subsequence of requests [${sent.join(',')}]`);
        break;
      }
      j++;
    }
    if (answerable && (got.length !== cases.length || conn.outcome.closedByBroker)) {
      problems.push(`${where}: ${cases.length} valid requests, ${got.length} responses${conn.outcome.closedByBroker ? ', connection closed' : ''}`);
    }
    return problems;
  } finally {
    conn.close();
  }
}

// ---------------------------------------------------------------------------------------
// Well-behaved clients that must not notice anything.

interface Watch {
  answered: number;
  errors: string[];
  stop(): Promise<void>;
}

function metadataRequest(correlationId: number): Buffer {
  return encodeRequest(
    { apiKey: 3, apiVersion: 4, correlationId, clientId: 'fuzz-watcher' },
    { topics: [{ name: WATCH_TOPIC }], allowAutoTopicCreation: false },
  );
}

/** A raw-socket Metadata v4 loop on one long-lived connection. */
function watchRaw(port: number): Watch {
  const conn = new RawConnection(port);
  let running = true;
  const watch: Watch = { answered: 0, errors: [], stop: async () => {} };
  const loop = (async () => {
    let corr = 1;
    while (running) {
      const before = conn.outcome.responses.length;
      await conn.write([metadataRequest(corr)]);
      await conn.settle(() => conn.outcome.responses.length > before, 10000);
      if (conn.outcome.responses.length === before) {
        watch.errors.push(`raw watcher: no answer to #${corr}${conn.isClosed ? ' (connection closed)' : ''}`);
        return;
      }
      const frame = conn.outcome.responses[before]!;
      const { correlationId, body } = decodeResponse(3, 4, frame);
      const m = body as MetadataResponse;
      const t = m.topics[0];
      if (correlationId !== corr || m.brokers.length !== 1 || m.brokers[0]!.port !== port || m.topics.length !== 1 || t?.name !== WATCH_TOPIC || t.errorCode !== 0 || t.partitions.length !== WATCH_PARTITIONS) {
        watch.errors.push(`raw watcher: unexpected answer to #${corr}: ${JSON.stringify(body)}`);
        return;
      }
      watch.answered++;
      corr++;
      await sleep(5);
    }
  })().catch((e: unknown) => void watch.errors.push(`raw watcher: ${String(e)}`));
  watch.stop = async () => {
    running = false;
    await loop;
    conn.close();
  };
  return watch;
}

/** A kafkajs admin asking for the watched topic over and over. */
async function watchKafkajs(bootstrap: string): Promise<Watch> {
  const admin = new Kafka({ clientId: 'fuzz-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  await admin.connect();
  let running = true;
  const watch: Watch = { answered: 0, errors: [], stop: async () => {} };
  const loop = (async () => {
    while (running) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [WATCH_TOPIC] });
        const parts = topics[0]?.partitions.map((p) => [p.partitionId, p.leader, p.partitionErrorCode]).sort((a, b) => a[0]! - b[0]!);
        if (topics.length !== 1 || JSON.stringify(parts) !== JSON.stringify([[0, 0, 0], [1, 0, 0], [2, 0, 0]])) {
          watch.errors.push(`kafkajs watcher: unexpected metadata ${JSON.stringify(topics)}`);
        } else watch.answered++;
      } catch (e) {
        watch.errors.push(`kafkajs watcher: ${e instanceof Error ? e.message : String(e)}`);
      }
      await sleep(20);
    }
  })();
  watch.stop = async () => {
    running = false;
    await loop;
    await admin.disconnect();
  };
  return watch;
}

// ---------------------------------------------------------------------------------------

describe('a broker process under malformed and random frames', () => {
  let broker: BrokerProcess;
  let advertised: Advertised;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    const admin = new Kafka({ clientId: 'fuzz-setup', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: WATCH_TOPIC, numPartitions: WATCH_PARTITIONS }] });
    await admin.disconnect();
    // what this broker advertises today (more APIs get registered over time)
    const conn = new RawConnection(broker.kafkaPort);
    await conn.write([encodeRequest({ apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'fuzz' }, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' })]);
    await conn.settle(() => conn.outcome.responses.length === 1, 10000);
    conn.close();
    const list = (decodeResponse(18, 3, conn.outcome.responses[0]!).body.apiKeys as ApiVersionsResponseApiVersion[]).map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion }));
    advertised = { list, has: (k, v) => list.some((a) => a.apiKey === k && v >= a.minVersion && v <= a.maxVersion) };
  });

  afterAll(async () => {
    await broker?.cleanup();
  });

  it('answers ApiVersions v99 with a v0 response: error 35 and the API list, and keeps the connection', async () => {
    const conn = new RawConnection(broker.kafkaPort);
    try {
      const frame = Buffer.concat([header(18, 99, 4242, false), Buffer.from([0x01, 0x02, 0x03])]);
      await conn.write([sizePrefixed(frame)]);
      await conn.settle(() => conn.outcome.responses.length === 1, 10000);
      expect(conn.outcome.responses).toHaveLength(1);
      const response = conn.outcome.responses[0]!;
      expect(response.subarray(0, 6).toString('hex')).toBe('00001092' + '0023');
      expect(decodeResponse(18, 0, response).body).toMatchObject({ errorCode: 35, apiKeys: advertised.list });
      expect(sizePrefixed(response).equals(encodeResponse(18, 0, 4242, { errorCode: 35, apiKeys: advertised.list }))).toBe(true);
      expect(advertised.list).toContainEqual({ apiKey: 18, minVersion: 0, maxVersion: 4 });
      // the same connection still works
      await conn.write([encodeRequest({ apiKey: 18, apiVersion: 3, correlationId: 4243, clientId: 'fuzz' }, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' })]);
      await conn.settle(() => conn.outcome.responses.length === 2, 10000);
      expect(conn.outcome.responses[1]!.readInt32BE(0)).toBe(4243);
      expect(decodeResponse(18, 3, conn.outcome.responses[1]!).body.errorCode).toBe(0);
      expect(conn.outcome.closedByBroker).toBe(false);
    } finally {
      conn.close();
    }
  });

  it('closes only the connection that sent an unknown API key', async () => {
    const bystander = new RawConnection(broker.kafkaPort);
    const offender = new RawConnection(broker.kafkaPort);
    try {
      await bystander.write([metadataRequest(1)]);
      await bystander.settle(() => bystander.outcome.responses.length === 1, 10000);
      await offender.write([sizePrefixed(Buffer.concat([header(9999, 0, 77, false), Buffer.alloc(16)]))]);
      await offender.settle(() => false, 10000);
      expect(offender.outcome.closedByBroker).toBe(true);
      expect(offender.outcome.responses).toEqual([]);
      await bystander.write([metadataRequest(2)]);
      await bystander.settle(() => bystander.outcome.responses.length === 2, 10000);
      expect(bystander.outcome.responses.map((r) => r.readInt32BE(0))).toEqual([1, 2]);
      const body = decodeResponse(3, 4, bystander.outcome.responses[1]!).body;
      expect(body.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual([[WATCH_TOPIC, 0, WATCH_PARTITIONS]]);
      expect(bystander.outcome.closedByBroker).toBe(false);
    } finally {
      bystander.close();
      offender.close();
    }
  });

  it('closes a connection whose frame is larger than socket.request.max.bytes, and waits on one exactly at the limit', async () => {
    const over = new RawConnection(broker.kafkaPort);
    const atLimit = new RawConnection(broker.kafkaPort);
    try {
      await over.write([sizePrefixed(header(3, 4, 1, false), MAX_REQUEST_BYTES + 1)]);
      await atLimit.write([sizePrefixed(header(3, 4, 1, false), MAX_REQUEST_BYTES)]);
      await over.settle(() => false, 10000);
      expect(over.outcome.closedByBroker).toBe(true);
      expect(over.outcome.responses).toEqual([]);
      await atLimit.settle(() => false, 500);
      expect(atLimit.outcome.closedByBroker).toBe(false);
      expect(atLimit.outcome.responses).toEqual([]);
    } finally {
      over.close();
      atLimit.close();
    }
  });

  it(`survives ${CASES} fuzzed frames (seed ${SEED}) while other clients keep getting correct answers`, { timeout: 300000 }, async () => {
    const pid = broker.process.pid!;
    const rng = prng(SEED);
    const pool = baseFrames();

    // connections: mostly one case each (exact expectations), some pipelined valid/bit-flipped frames
    const plan: Array<{ cases: FuzzCase[]; pipelined: boolean }> = [];
    let index = 0;
    while (index < CASES) {
      if (rng.next() < 0.15) {
        const n = Math.min(CASES - index, rng.range(2, 5));
        const cases: FuzzCase[] = [];
        const allValid = rng.next() < 0.5;
        while (cases.length < n) {
          const c = makeCase(rng, index, pool, advertised);
          const ok = allValid ? c.kind === 'valid' && c.expect.kind === 'answered' : c.framed && (c.kind === 'valid' || c.kind === 'bitflip');
          if (ok) {
            cases.push(c);
            index++;
          }
        }
        plan.push({ cases, pipelined: true });
      } else {
        plan.push({ cases: [makeCase(rng, index++, pool, advertised)], pipelined: false });
      }
    }
    const kinds = new Map<string, number>();
    for (const p of plan) for (const c of p.cases) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);

    const raw = watchRaw(broker.kafkaPort);
    const kjs = await watchKafkajs(broker.bootstrap);
    await sleep(300);
    const baseline = rssBytes(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssBytes(pid));
      } catch {
        // the process is gone: the liveness assertion below reports it
      }
    }, 100);

    const problems: string[] = [];
    let next = 0;
    const worker = async (w: number) => {
      const wrng = prng(SEED ^ (w * 0x9e3779b9));
      while (next < plan.length) {
        const p = plan[next++]!;
        problems.push(...(p.pipelined ? await runPipelined(broker.kafkaPort, wrng, p.cases) : await runSingle(broker.kafkaPort, wrng, p.cases[0]!)));
      }
    };
    try {
      await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      await sleep(200);
    } finally {
      clearInterval(sampler);
      await raw.stop();
      await kjs.stop();
    }
    peak = Math.max(peak, rssBytes(pid));

    expect(broker.process.exitCode).toBeNull();
    expect(broker.process.signalCode).toBeNull();
    expect((await fetch(`http://127.0.0.1:${broker.httpPort}/ready`)).status).toBe(200);
    expect([...kinds.keys()].sort()).toEqual(['bad-version', 'bitflip', 'huge-array', 'prefix-long', 'prefix-out-of-range', 'prefix-short', 'random', 'short-header', 'truncated', 'unknown-api', 'valid']);
    expect([...kinds.values()].reduce((a, b) => a + b, 0)).toBe(CASES);
    expect(problems).toEqual([]);
    expect(raw.errors).toEqual([]);
    expect(kjs.errors).toEqual([]);
    expect(raw.answered).toBeGreaterThan(50);
    expect(kjs.answered).toBeGreaterThan(10);
    expect(peak - baseline, `RSS went from ${baseline} to ${peak} bytes`).toBeLessThan(RSS_GROWTH_LIMIT);
    // a decodable request never makes a handler throw: bad input gets error codes or a hang-up
    expect(broker.output()).not.toContain('request handler failed');

    // and a fresh client after the storm gets the right answer
    const admin = new Kafka({ clientId: 'fuzz-after', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata({ topics: [WATCH_TOPIC] });
    await admin.disconnect();
    expect(topics[0]!.partitions).toHaveLength(WATCH_PARTITIONS);
  });
});
