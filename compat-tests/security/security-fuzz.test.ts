// Bad input on the SASL and TLS listeners (issue #14): 10,000 fuzzed SASL frames of every
// kind a broken or hostile client sends, and TLS garbage, while a real kafkajs client produces
// over SASL_SSL with SCRAM-SHA-512. Each fuzzed connection gets exactly Kafka's answer (an
// error code, or a close without one) and is closed; the broker stays up, its memory stays
// bounded, no connection is left open, and the real client loses nothing and sees no error.

import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import { ApiKey, decodeResponse, encodeRequest, type RequestOf } from '../../src/protocol/api-codec.js';
import type { Loose } from '../../src/broker/handler.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';
import { seededRandom, seedFromEnv } from '../durability/seeded-random.js';
import { makeTestPki, type TestPki } from './certificates.js';

const FRAMES = 10_000;
const TLS_CONNECTIONS = 300;
/** Past the broker's 10 s TLS handshake timeout: a record header promising more bytes waits that long. */
const TLS_WAIT_MS = 15_000;
const CONCURRENCY = 32;
const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
const PASSWORD = 'fuzz-steady-secret-512';
const SEED = seedFromEnv(0x5a51);

let pki: TestPki;
let broker: BrokerProcess;
const ports = { sasl: 0, saslSsl: 0 };

beforeAll(async () => {
  pki = await makeTestPki();
  ports.sasl = await freePort();
  ports.saslSsl = await freePort();
  broker = await startBrokerProcess({
    listeners: `PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:${ports.sasl},SASL_SSL://127.0.0.1:${ports.saslSsl}`,
    args: ['--ssl-certificate-location', pki.serverCert, '--ssl-key-location', pki.serverKey, '--ssl-ca-location', pki.caPem, '--sasl-enabled-mechanisms', MECHANISMS.join(',')],
    env: { STREAMHOUSE_ADD_SCRAM: `SCRAM-SHA-512=[name=steady,password=${PASSWORD}]` },
  });
}, 90_000);

afterAll(async () => {
  await broker?.cleanup();
  expect(broker?.output() ?? '').not.toContain(PASSWORD);
});

/** What one connection got: the frames the broker answered, and whether it closed the connection. */
interface Outcome {
  readonly frames: Buffer[];
  readonly closed: boolean;
}

/** Writes `bytes` at once (pipelined) and collects answers until the broker closes or `waitMs` passes. */
function probe(port: number, tls: boolean, bytes: Buffer, waitMs = 5000): Promise<Outcome> {
  return new Promise((resolve) => {
    const frames: Buffer[] = [];
    const decoder = new FrameDecoder(1 << 20);
    let socket: Socket;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ frames, closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    const onOpen = () => socket.write(bytes, () => undefined);
    socket = tls
      ? tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(pki.caPem) }, onOpen)
      : netConnect({ host: '127.0.0.1', port }, onOpen);
    socket.on('data', (chunk: Buffer) => {
      try {
        frames.push(...decoder.push(chunk));
      } catch {
        frames.push(Buffer.from('undecodable'));
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => finish(true));
  });
}

/** Raw bytes to a TLS listener, without a TLS client: the broker must hang up. */
function rawProbe(port: number, bytes: Buffer, waitMs = 5000): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port }, () => socket.write(bytes, () => undefined));
    const timer = setTimeout(() => (socket.destroy(), resolve({ frames: [], closed: false })), waitMs);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => (clearTimeout(timer), resolve({ frames: [], closed: true })));
  });
}

let correlation = 1;
const request = <K extends ApiKey>(apiKey: K, version: number, body: Loose<RequestOf<K>>) => encodeRequest({ apiKey, apiVersion: version, correlationId: correlation++, clientId: 'fuzz' }, body);
const sized = (body: Buffer) => Buffer.concat([Buffer.from([body.length >>> 24, (body.length >>> 16) & 255, (body.length >>> 8) & 255, body.length & 255]), body]);

function errorCodeOf<K extends typeof ApiKey.SaslHandshake | typeof ApiKey.SaslAuthenticate>(apiKey: K, version: number, frame: Buffer | undefined): number | undefined {
  if (frame === undefined) return undefined;
  return decodeResponse(apiKey, version, frame).body.errorCode;
}

interface FuzzCase {
  readonly kind: string;
  /** Kafka frames written (the count the issue sets: 10,000). */
  readonly frames: number;
  readonly bytes: Buffer;
  /** Checks the outcome; returns a problem or null. */
  check(o: Outcome): string | null;
}

/** A fuzzed SASL connection of a random kind, from the seeded generator. */
function fuzzCase(rand: () => number): FuzzCase {
  const int = (n: number) => Math.floor(rand() * n);
  const junk = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const mechanism = MECHANISMS[int(MECHANISMS.length)]!;
  const closedWith = (expected: Array<[number, typeof ApiKey.SaslHandshake | typeof ApiKey.SaslAuthenticate, number]>) => (o: Outcome) => {
    if (!o.closed) return 'connection left open';
    if (o.frames.length !== expected.length) return `${o.frames.length} answers, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const [code, api, version] = expected[i]!;
      const got = errorCodeOf(api, version, o.frames[i]);
      if (got !== code) return `answer ${i}: error ${got}, expected ${code}`;
    }
    return null;
  };
  const handshakeOk = (v: number): [number, typeof ApiKey.SaslHandshake, number] => [ErrorCode.NONE, ApiKey.SaslHandshake, v];
  switch (int(10)) {
    case 0: {
      // a request of a random non-SASL API with a random body, before any handshake
      let key = int(70);
      if (key === ApiKey.SaslHandshake || key === ApiKey.ApiVersions || key === ApiKey.SaslAuthenticate) key = ApiKey.Metadata;
      const body = junk(8 + int(120));
      body.writeInt16BE(key, 0);
      return { kind: 'random request before login', frames: 1, bytes: sized(body), check: closedWith([]) };
    }
    case 1:
      return { kind: 'frame shorter than a header', frames: 1, bytes: sized(junk(int(8))), check: closedWith([]) };
    case 2: {
      const v = int(2);
      const name = junk(1 + int(40)).toString('latin1');
      return {
        kind: 'unknown mechanism',
        frames: 1,
        bytes: request(ApiKey.SaslHandshake, v, { mechanism: `X-${name}` }),
        check: (o) => {
          const problem = closedWith([[ErrorCode.UNSUPPORTED_SASL_MECHANISM, ApiKey.SaslHandshake, v]])(o);
          if (problem) return problem;
          const enabled = decodeResponse(ApiKey.SaslHandshake, v, o.frames[0]!).body.mechanisms;
          return JSON.stringify(enabled) === JSON.stringify(MECHANISMS) ? null : `enabled list ${JSON.stringify(enabled)}`;
        },
      };
    }
    case 3: {
      const body = request(ApiKey.SaslHandshake, 1, { mechanism }).subarray(4);
      body.writeInt16BE(2 + int(20), 2);
      return { kind: 'unsupported handshake version', frames: 1, bytes: sized(body), check: closedWith([]) };
    }
    case 4: {
      const v = int(3);
      const bytes = Buffer.concat([request(ApiKey.SaslHandshake, 1, { mechanism }), request(ApiKey.SaslAuthenticate, v, { authBytes: junk(int(300)) })]);
      return { kind: 'garbage SaslAuthenticate', frames: 2, bytes, check: closedWith([handshakeOk(1), [ErrorCode.SASL_AUTHENTICATION_FAILED, ApiKey.SaslAuthenticate, v]]) };
    }
    case 5: {
      const full = request(ApiKey.SaslAuthenticate, int(3), { authBytes: junk(20 + int(100)) }).subarray(4);
      const cut = full.subarray(0, 8 + int(full.length - 12));
      return { kind: 'truncated SaslAuthenticate', frames: 2, bytes: Buffer.concat([request(ApiKey.SaslHandshake, 1, { mechanism }), sized(cut)]), check: closedWith([handshakeOk(1)]) };
    }
    case 6: {
      // logged in halfway (handshake done), then a normal request: closed without an answer
      const bytes = Buffer.concat([request(ApiKey.SaslHandshake, 1, { mechanism }), request(ApiKey.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })]);
      return { kind: 'request between handshake and login', frames: 2, bytes, check: closedWith([handshakeOk(1)]) };
    }
    case 7:
      // handshake v0, then a raw token of garbage: a failed v0 exchange has no answer
      return { kind: 'garbage raw token', frames: 2, bytes: Buffer.concat([request(ApiKey.SaslHandshake, 0, { mechanism }), sized(junk(1 + int(200)))]), check: closedWith([handshakeOk(0)]) };
    case 8: {
      // a size over sasl.server.max.receive.size (512 KiB) or negative, with a body following
      const size = rand() < 0.5 ? 524_289 + int(1 << 30) : -1 - int(1 << 30);
      const head = Buffer.alloc(4);
      head.writeInt32BE(size);
      return { kind: 'oversized or negative size', frames: 1, bytes: Buffer.concat([head, junk(int(64 * 1024))]), check: closedWith([]) };
    }
    default: {
      // a failed login with 2 MiB of ApiVersions requests pipelined behind it: none is answered
      const flood = Buffer.concat(Array.from({ length: 2048 }, () => request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1'.repeat(990) })));
      const bytes = Buffer.concat([request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' }), request(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from('\u0000nobody\u0000wrong') }), flood]);
      return { kind: 'flood behind a failed login', frames: 2, bytes, check: closedWith([handshakeOk(1), [ErrorCode.SASL_AUTHENTICATION_FAILED, ApiKey.SaslAuthenticate, 2]]) };
    }
  }
}

/** TLS garbage: random bytes, a TLS record header with a random body, or a Kafka frame in clear text. */
function tlsGarbage(rand: () => number): Buffer {
  const int = (n: number) => Math.floor(rand() * n);
  const junk = Buffer.from(Array.from({ length: 1 + int(600) }, () => int(256)));
  switch (int(3)) {
    case 0:
      return junk;
    case 1:
      // a handshake record (0x16 0x03 0x01) whose length and body are garbage
      return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, int(256), int(256), 0x01]), junk]);
    default:
      return request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'plaintext-on-tls', clientSoftwareVersion: '1' });
  }
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function connectionsGauge(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
  return Number(/^streamhouse_kafka_connections (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** A kafkajs producer over SASL_SSL with SCRAM-SHA-512 that sends one record every 10 ms. */
function steadyProducer(producer: Producer, topic: string) {
  const sent: string[] = [];
  const latencies: number[] = [];
  const errors: string[] = [];
  let stopped = false;
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const value = `steady-${i}`;
      const t = Date.now();
      try {
        await producer.send({ topic, acks: -1, messages: [{ value, partition: 0 }] });
        sent.push(value);
        latencies.push(Date.now() - t);
      } catch (e) {
        errors.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return { sent, latencies, errors, stop: async () => ((stopped = true), await loop) };
}

describe('fuzzed SASL frames and TLS garbage', () => {
  it('each gets Kafka’s answer and a close; the broker stays up with bounded memory and a real client is unaffected', async () => {
    const topic = 'fuzz-steady';
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${ports.saslSsl}`],
      ssl: { ca: [readFileSync(pki.caPem, 'utf8')], servername: 'localhost' },
      sasl: { mechanism: 'scram-sha-512', username: 'steady', password: PASSWORD },
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const steady = steadyProducer(producer, topic);
    await waitUntil('the steady producer to get going', () => steady.sent.length >= 20, 20_000);

    const pid = broker.process.pid!;
    const baselineRss = rssBytes(pid);
    let peakRss = baselineRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(pid))), 50);
    const connectionsBefore = await connectionsGauge();

    const rand = seededRandom(SEED);
    const problems = new Map<string, string[]>();
    const kinds = new Map<string, number>();
    let framesSent = 0;
    const started = Date.now();
    try {
      // SASL_PLAINTEXT and SASL_SSL alike: the fuzzed frames travel inside a real TLS session on one of them
      const worker = async () => {
        while (framesSent < FRAMES) {
          const c = fuzzCase(rand);
          framesSent += c.frames;
          const tls = rand() < 0.25;
          const outcome = await probe(tls ? ports.saslSsl : ports.sasl, tls, c.bytes);
          kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
          const problem = c.check(outcome);
          if (problem) problems.set(c.kind, [...(problems.get(c.kind) ?? []), problem].slice(0, 5));
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const saslMs = Date.now() - started;

      let tlsLeftOpen = 0;
      let tlsDone = 0;
      const tlsWorker = async () => {
        while (tlsDone < TLS_CONNECTIONS) {
          tlsDone++;
          if (!(await rawProbe(ports.saslSsl, tlsGarbage(rand), TLS_WAIT_MS)).closed) tlsLeftOpen++;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, tlsWorker));

      await waitUntil('the fuzzed connections to be gone', async () => (await connectionsGauge()) <= connectionsBefore, 10_000, () => `before: ${connectionsBefore}`);
      clearInterval(sampler);
      await steady.stop();
      await producer.disconnect();

      const p99 = [...steady.latencies].sort((a, b) => a - b)[Math.floor(steady.latencies.length * 0.99)] ?? 0;
      console.log(JSON.stringify({ seed: SEED, framesSent, saslMs, kinds: Object.fromEntries(kinds), tlsConnections: tlsDone, baselineRssMiB: baselineRss >> 20, peakRssMiB: peakRss >> 20, steady: { sent: steady.sent.length, p99Ms: p99, maxMs: Math.max(...steady.latencies) } }));

      expect(Object.fromEntries(problems)).toEqual({});
      expect(framesSent).toBeGreaterThanOrEqual(FRAMES);
      expect(kinds.size).toBe(10);
      expect(tlsLeftOpen).toBe(0);
      expect(broker.process.exitCode).toBeNull();
      expect((await fetch(`http://127.0.0.1:${broker.httpPort}/ready`)).status).toBe(200);
      // 32 connections with up to 2 MiB in flight each; held frames must not pile up beyond that
      expect(peakRss - baselineRss).toBeLessThan(160 * 1024 * 1024);
      expect(steady.errors).toEqual([]);
      expect(p99).toBeLessThan(2000);

      // the real client's records, exactly and in order
      const consumer = kafka.consumer({ groupId: 'fuzz-check' });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const read: string[] = [];
      await consumer.run({ eachMessage: async ({ message }) => void read.push(message.value!.toString()) });
      await waitUntil('the steady records to be read back', () => read.length >= steady.sent.length, 30_000);
      await consumer.disconnect();
      expect(read).toEqual(steady.sent);
    } finally {
      clearInterval(sampler);
      await steady.stop();
    }
  }, 240_000);
});
