import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentLog } from './agent-log.js';
import { openMetadataStore } from '../metadata/open-metadata-store.js';
import type { FlushCommit, MetadataStore, PartitionMetadataStore } from '../metadata/metadata-store.js';
import { MemoryObjectStore } from '../storage/memory/memory-object-store.js';
import { buildRecordBatch } from '../protocol/records/record-codec.js';

// A commit whose reply is lost (the database crashed after COMMIT) while the database is
// still unreachable for the outcome check: the flush retries, the guard rejects the retry
// because the first attempt did land, and that must count as committed, not as another
// writer.

const logger = pino({ level: 'silent' });

function batch(values: string[]): Buffer {
  return buildRecordBatch({ baseOffset: 0n, records: values.map((v, i) => ({ key: null, value: Buffer.from(v), headers: [], timestamp: 1_700_000_000_000n + BigInt(i) })) });
}

/** The store, except that the first commit lands and then reports a dropped connection, and the next `failGets` reads fail. */
function lossyCommits(metadata: MetadataStore, failGets: number): { store: MetadataStore; commits: () => number } {
  const real = metadata.partitions;
  let commits = 0;
  let armedGets = 0;
  const partitions = Object.create(real) as PartitionMetadataStore;
  Object.assign(partitions, {
    async commitFlush(commit: FlushCommit): Promise<void> {
      commits++;
      await real.commitFlush(commit);
      if (commits === 1) {
        armedGets = failGets;
        throw new Error('Connection terminated unexpectedly');
      }
    },
    async get(topic: string, partition: number) {
      if (armedGets > 0) {
        armedGets--;
        throw new Error('the database system is starting up');
      }
      return real.get(topic, partition);
    },
  });
  const store = Object.create(metadata) as MetadataStore;
  Object.defineProperty(store, 'partitions', { value: partitions });
  return { store, commits: () => commits };
}

describe('flush commit with a lost reply', () => {
  let dir: string;
  let metadata: MetadataStore;
  const logs: AgentLog[] = [];

  afterEach(async () => {
    for (const l of logs.splice(0)) await l.close();
    await metadata.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Appends two records through a store whose first commit loses its reply; returns what the append answered. */
  async function appendThroughLostReply(failGets: number): Promise<{ answer: { ok: bigint } | { error: string }; commits: number }> {
    dir = mkdtempSync(join(tmpdir(), 'flush-outcome-'));
    metadata = await openMetadataStore(`sqlite://${join(dir, 'meta.db')}`);
    const topic = await metadata.topics.create({ name: 't', partitionCount: 1, configs: {} });
    const lossy = lossyCommits(metadata, failGets);
    const log = new AgentLog({ agentId: 'a1', metadata: lossy.store, objects: new MemoryObjectStore(), logger, flushMaxBytes: 1 << 20, flushIntervalMs: 5, recentWriteCacheBytes: 1 << 20, fetchCacheBytes: 1 << 20, topicPolicy: () => undefined });
    logs.push(log);
    const answer = await log.append({ topic, partition: 0, batches: [batch(['a', 'b'])], deadlineMs: Date.now() + 5000 }).then(
      (r) => ({ ok: r.baseOffset }),
      (e: unknown) => ({ error: (e as Error).message }),
    );
    return { answer, commits: lossy.commits() };
  }

  it('acknowledges the append when the outcome check finds the commit', async () => {
    const { answer, commits } = await appendThroughLostReply(0);
    expect(answer).toEqual({ ok: 0n });
    expect(commits).toBe(1);
    expect((await metadata.partitions.get('t', 0))?.highWatermark).toBe(2n);
  });

  it('acknowledges the append when the outcome check fails too and the retried commit is rejected because the first one landed', async () => {
    const { answer } = await appendThroughLostReply(1);
    expect(answer).toEqual({ ok: 0n });
    expect((await metadata.partitions.get('t', 0))?.highWatermark).toBe(2n);
  });
});
