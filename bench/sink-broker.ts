/**
 * A Kafka-protocol sink: the broker's own framing (FrameDecoder) and codec, answering
 * ApiVersions, Metadata, CreateTopics and Produce at once and storing nothing (Produce of
 * anything but magic-v2 batches is refused, as the broker does). Producing to
 * it shows what the load generator (or a real client) can push when the broker costs nothing.
 *   npx tsx bench/sink-broker.ts --port 9099
 */
import { createServer, type Socket } from 'node:net';
import { FrameDecoder } from '../src/protocol/frame-decoder.js';
import { API_VERSIONS_KEY, decodeRequestBody, encodeResponse, requestHeaderVersion } from '../src/protocol/api-codec.js';
import { ErrorCode } from '../src/protocol/error-codes.js';
import { decodeRequestHeader } from '../src/protocol/headers.js';
import { Reader } from '../src/protocol/primitives/reader.js';
import { CURRENT_MAGIC, MAGIC_OFFSET, RECORD_COUNT_OFFSET } from '../src/protocol/records/record-batch.js';
import { intFlag, parseFlags } from './lib/args.js';

const flags = parseFlags('sink-broker.ts', {
  host: { default: '127.0.0.1', help: 'address to listen on' },
  port: { default: '0', help: 'port (0 = any free port; printed on start)' },
  'default-partitions': { default: '1', help: 'partitions of topics first seen in Metadata or Produce' },
});

/**
 * Versions as the real broker advertises them, so clients pick the same request formats.
 * Fetch is advertised but never answered: librdkafka only writes v2 record batches when the
 * broker also speaks Fetch v4+ (its MsgVer2 feature), and falls back to magic 0 otherwise.
 */
const ADVERTISED = [
  { apiKey: 0, minVersion: 0, maxVersion: 11 },
  { apiKey: 1, minVersion: 0, maxVersion: 12 },
  { apiKey: 3, minVersion: 0, maxVersion: 9 },
  { apiKey: 18, minVersion: 0, maxVersion: 4 },
  { apiKey: 19, minVersion: 0, maxVersion: 7 },
];
const ANSWERED = ADVERTISED.filter((a) => a.apiKey !== 1);

const host = flags.host;
const defaultPartitions = intFlag(flags['default-partitions'], 'default-partitions', 1);
const topics = new Map<string, { id: string; nextOffsets: bigint[] }>();
let port = intFlag(flags.port, 'port');
let requests = 0;
let producedBytes = 0;
let producedRecords = 0;

function topicNamed(name: string, partitions = defaultPartitions) {
  let t = topics.get(name);
  if (!t) {
    const id = `${(topics.size + 1).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
    topics.set(name, (t = { id, nextOffsets: Array.from({ length: partitions }, () => 0n) }));
  }
  return t;
}

function answer(apiKey: number, version: number, body: unknown): unknown {
  switch (apiKey) {
    case API_VERSIONS_KEY:
      return { errorCode: 0, apiKeys: ADVERTISED, throttleTimeMs: 0 };
    case 3: {
      const req = body as { topics: Array<{ name: string | null }> | null };
      const names = req.topics === null || (version === 0 && req.topics.length === 0) ? [...topics.keys()] : req.topics.map((t) => t.name ?? '');
      return {
        throttleTimeMs: 0,
        brokers: [{ nodeId: 0, host, port, rack: null }],
        clusterId: 'sink',
        controllerId: 0,
        topics: names.map((name) => {
          const t = topicNamed(name);
          return {
            errorCode: 0,
            name,
            topicId: t.id,
            isInternal: false,
            partitions: t.nextOffsets.map((_, p) => ({ errorCode: 0, partitionIndex: p, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: [] })),
          };
        }),
      };
    }
    case 19: {
      const req = body as { topics: Array<{ name: string; numPartitions: number }> };
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => {
          const exists = topics.has(t.name);
          const partitions = t.numPartitions > 0 ? t.numPartitions : defaultPartitions;
          const created = topicNamed(t.name, partitions);
          return {
            name: t.name,
            topicId: created.id,
            errorCode: exists ? ErrorCode.TOPIC_ALREADY_EXISTS : 0,
            errorMessage: exists ? `Topic '${t.name}' already exists.` : null,
            numPartitions: created.nextOffsets.length,
            replicationFactor: 1,
            configs: [],
          };
        }),
      };
    }
    case 0: {
      const req = body as { acks: number; topicData: Array<{ name: string; partitionData: Array<{ index: number; records: Buffer | null }> }> };
      const responses = req.topicData.map((td) => {
        const t = topicNamed(td.name);
        return {
          name: td.name,
          partitionResponses: td.partitionData.map((p) => {
            const records = p.records;
            if (p.index < 0 || p.index >= t.nextOffsets.length || records === null || records.length <= RECORD_COUNT_OFFSET + 4 || records[MAGIC_OFFSET] !== CURRENT_MAGIC) {
              return { index: p.index, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null };
            }
            // one batch per partition from v3 on; its header says how many offsets it takes
            const count = records.readInt32BE(RECORD_COUNT_OFFSET);
            const baseOffset = t.nextOffsets[p.index]!;
            t.nextOffsets[p.index] = baseOffset + BigInt(count);
            producedBytes += records.length;
            producedRecords += count;
            return { index: p.index, errorCode: 0, baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n, recordErrors: [], errorMessage: null };
          }),
        };
      });
      if (req.acks === 0) return null;
      return { responses, throttleTimeMs: 0 };
    }
    default:
      return undefined;
  }
}

function serve(socket: Socket): void {
  const decoder = new FrameDecoder(100 * 1024 * 1024);
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    let frames: Buffer[];
    try {
      frames = decoder.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      const apiKey = frame.readInt16BE(0);
      const version = frame.readInt16BE(2);
      const correlationId = frame.readInt32BE(4);
      const api = ANSWERED.find((a) => a.apiKey === apiKey);
      requests++;
      if (!api || version < api.minVersion || version > api.maxVersion) {
        if (apiKey === API_VERSIONS_KEY) {
          socket.write(encodeResponse(API_VERSIONS_KEY, 0, correlationId, { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: ADVERTISED }));
          continue;
        }
        socket.destroy();
        return;
      }
      let response: unknown;
      try {
        const reader = new Reader(frame);
        decodeRequestHeader(reader, requestHeaderVersion(apiKey, version));
        response = answer(apiKey, version, decodeRequestBody(apiKey as 0, version, reader));
      } catch {
        socket.destroy();
        return;
      }
      if (response !== null) socket.write(encodeResponse(apiKey, version, correlationId, response));
    }
  });
}

const server = createServer(serve);
server.listen(port, host, () => {
  const addr = server.address();
  if (typeof addr === 'object' && addr) port = addr.port;
  console.log(`sink broker listening on ${host}:${port} (pid ${process.pid})`);
});

const started = performance.now();
const shutdown = () => {
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage();
  console.log(
    `sink broker: ${requests} requests, ${producedRecords} records, ${(producedBytes / 1e6).toFixed(1)} MB of batches in ${seconds.toFixed(0)} s; ` +
      `CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`,
  );
  server.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
