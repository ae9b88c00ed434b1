import { PeriodicTask } from './periodic-task.js';
import type { Logger } from 'pino';
import { isMetadataStoreError, type IndexedChunk, type MetadataStore } from '../metadata/metadata-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { SegmentKeyGenerator } from '../storage/segment/segment-key.js';
import { buildSegment } from '../storage/segment/segment-writer.js';
import { MAX_TIMESTAMP_OFFSET } from '../protocol/records/record-batch.js';
import { iterateBatches } from './agent-log.js';

export interface CompactorOptions {
  readonly agentId: string;
  readonly metadata: MetadataStore;
  readonly objects: ObjectStore;
  readonly logger: Logger;
  readonly intervalMs: number;
  /** Chunks smaller than this are worth merging. */
  readonly smallChunkBytes: number;
  /** Upper bound on a merged chunk. */
  readonly targetChunkBytes: number;
  /** Partitions to look at (topic, partition count), refreshed every pass. */
  readonly targets: () => Promise<Array<{ topic: string; partitions: number }>>;
  readonly leads: (topic: string, partition: number) => boolean;
}

export interface CompactionStats {
  partitions: number;
  merged: number;
  chunksBefore: number;
  chunksAfter: number;
  conflicts: number;
}

const PAGE = 1000;

/** Small chunks a partition under a trickle may keep before its run is merged whole. */
export const BUSY_RUN_CHUNKS = 4;

/**
 * Runs of at least two consecutive small chunks, each run within the target size.
 *
 * While a partition is still being written (`quiet` false) a run is cut down to its longest
 * suffix in which no chunk outweighs all the others together: a merged chunk is rewritten
 * only once as many new bytes have joined it, so under a trickle each byte is rewritten
 * O(log n) times and a partition keeps O(log n) small chunks (like a binary counter)
 * instead of rewriting its whole merged chunk on every pass. A run longer than
 * BUSY_RUN_CHUNKS merges whole anyway, which bounds the small chunks (and so the objects and
 * reads) per partition; a quiet partition (no new chunk since the last pass) merges whole,
 * down to one chunk.
 */
export function planMerges(chunks: readonly IndexedChunk[], smallChunkBytes: number, targetChunkBytes: number, quiet = true): IndexedChunk[][] {
  const runs: IndexedChunk[][] = [];
  let run: IndexedChunk[] = [];
  let bytes = 0;
  const close = () => {
    const picked = quiet || run.length > BUSY_RUN_CHUNKS ? run : balancedSuffix(run);
    if (picked.length >= 2) runs.push(picked);
    run = [];
    bytes = 0;
  };
  for (const c of chunks) {
    const contiguous = run.length === 0 || c.baseOffset === run[run.length - 1]!.lastOffset + 1n;
    if (c.byteLength >= smallChunkBytes || !contiguous || bytes + c.byteLength > targetChunkBytes) close();
    if (c.byteLength >= smallChunkBytes) continue;
    run.push(c);
    bytes += c.byteLength;
  }
  close();
  return runs;
}

/** The longest suffix whose largest chunk is no bigger than the rest together (empty if none). */
function balancedSuffix(run: IndexedChunk[]): IndexedChunk[] {
  let best = 0;
  let sum = 0;
  let max = 0;
  for (let i = run.length - 1; i >= 0; i--) {
    const size = run[i]!.byteLength;
    sum += size;
    if (size > max) max = size;
    if (run.length - i >= 2 && max <= sum - max) best = run.length - i;
  }
  return run.slice(run.length - best);
}

/**
 * Compaction of small objects (docs/architecture.md §6): one partition's chunks scattered over many small
 * flush objects are rewritten into one per-partition object and the index rows are swapped
 * atomically. The old objects become unreferenced once every partition moved out of them,
 * and the garbage collector deletes them after its grace period. Reads never stop: a reader
 * holding an old row still finds its object until then.
 */
export class Compactor {
  private readonly task: PeriodicTask<CompactionStats>;
  private readonly keys: SegmentKeyGenerator;
  /** Last offset of each partition's newest chunk at the previous pass: unchanged means quiet. */
  private lastSeenEnd = new Map<string, bigint>();

  constructor(private readonly opts: CompactorOptions) {
    this.task = new PeriodicTask({ run: () => this.pass(), intervalMs: opts.intervalMs, logger: opts.logger, failureMessage: 'compaction pass failed' });
    this.keys = new SegmentKeyGenerator(`${opts.agentId}.compactor`);
  }

  start(): void {
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task.stop();
  }

  runOnce(): Promise<CompactionStats> {
    return this.task.runOnce();
  }

  private async pass(): Promise<CompactionStats> {
    const stats: CompactionStats = { partitions: 0, merged: 0, chunksBefore: 0, chunksAfter: 0, conflicts: 0 };
    // rebuilt each pass, so deleted topics and partitions led elsewhere drop out
    const seenEnd = new Map<string, bigint>();
    for (const target of await this.opts.targets()) {
      for (let p = 0; p < target.partitions; p++) {
        if (!this.opts.leads(target.topic, p)) continue;
        stats.partitions++;
        const state = await this.opts.metadata.partitions.get(target.topic, p);
        if (!state) continue;
        const chunks: IndexedChunk[] = [];
        for (let from = state.logStartOffset; ; ) {
          const page = await this.opts.metadata.chunks.findChunks(target.topic, p, from, PAGE);
          chunks.push(...page);
          if (page.length < PAGE) break;
          from = page[page.length - 1]!.lastOffset + 1n;
        }
        stats.chunksBefore += chunks.length;
        let after = chunks.length;
        const key = `${target.topic}\u0000${p}`;
        const end = chunks[chunks.length - 1]?.lastOffset ?? -1n;
        const quiet = this.lastSeenEnd.get(key) === end;
        seenEnd.set(key, end);
        for (const run of planMerges(chunks, this.opts.smallChunkBytes, this.opts.targetChunkBytes, quiet)) {
          if (await this.merge(target.topic, p, run)) {
            stats.merged++;
            after -= run.length - 1;
          } else stats.conflicts++;
        }
        stats.chunksAfter += after;
      }
    }
    this.lastSeenEnd = seenEnd;
    if (stats.merged > 0) this.opts.logger.info(stats, 'compaction merged small chunks');
    return stats;
  }

  private async merge(topic: string, partition: number, run: IndexedChunk[]): Promise<boolean> {
    const parts: Buffer[] = [];
    for (const c of run) parts.push(await this.opts.objects.get(c.objectKey, { start: c.byteOffset, end: c.byteOffset + c.byteLength }));
    let maxTimestamp = -1n;
    let recordCount = 0;
    for (const part of parts) {
      for (const b of iterateBatches(part)) {
        const ts = b.readBigInt64BE(MAX_TIMESTAMP_OFFSET);
        if (ts > maxTimestamp) maxTimestamp = ts;
      }
    }
    for (const c of run) recordCount += c.recordCount;
    const first = run[0]!;
    const last = run[run.length - 1]!;
    const segment = buildSegment([{ topic, partition, baseOffset: first.baseOffset, lastOffset: last.lastOffset, maxTimestamp, recordCount, data: parts }]);
    const key = this.keys.next();
    await this.opts.objects.put(key, segment.body);
    const entry = segment.chunks[0]!;
    try {
      await this.opts.metadata.chunks.replace({
        topic,
        partition,
        replaced: run.map((c) => ({ objectKey: c.objectKey, baseOffset: c.baseOffset, lastOffset: c.lastOffset })),
        objectKey: key,
        objectSize: segment.body.length,
        chunk: { baseOffset: first.baseOffset, lastOffset: last.lastOffset, maxTimestamp, recordCount, byteOffset: entry.byteOffset, byteLength: entry.byteLength },
      });
      return true;
    } catch (err) {
      // the new object is left unreferenced; the garbage collector removes it
      if (isMetadataStoreError(err, 'CHUNKS_CHANGED')) return false;
      throw err;
    }
  }
}
