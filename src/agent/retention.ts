import { PeriodicTask } from './periodic-task.js';
import type { Logger } from 'pino';
import type { ChunkIndexStore, IndexedChunk } from '../metadata/metadata-store.js';
import type { LogService } from './log-service.js';

export interface RetentionPolicy {
  /** -1 keeps data forever. */
  readonly retentionMs: bigint;
  /** -1 means no size limit. */
  readonly retentionBytes: bigint;
  /** cleanup.policy includes `delete`. */
  readonly deletes: boolean;
}

export interface RetentionTarget {
  readonly topic: string;
  readonly partitions: number;
  readonly policy: RetentionPolicy;
}

export interface RetentionOptions {
  readonly chunks: ChunkIndexStore;
  readonly log: LogService;
  readonly logger: Logger;
  readonly intervalMs: number;
  /** The topics to enforce, with their effective configs; called at every pass. */
  readonly targets: () => Promise<RetentionTarget[]>;
  /** Only partitions this agent leads are trimmed by it. */
  readonly leads: (topic: string, partition: number) => boolean;
  readonly now?: () => number;
}

const PAGE = 1000;

/**
 * The new log start for one partition: whole chunks are dropped from the front while they
 * are older than retention.ms, or while the rest alone still exceeds retention.bytes
 * (Kafka's segment-level rules, with chunks in the role of segments).
 */
export function retentionCut(chunks: readonly IndexedChunk[], policy: RetentionPolicy, nowMs: bigint, logStart: bigint): bigint {
  let cut = logStart;
  let total = 0n;
  for (const c of chunks) total += BigInt(c.byteLength);
  for (const c of chunks) {
    const expired = policy.retentionMs >= 0n && c.maxTimestamp < nowMs - policy.retentionMs;
    const oversized = policy.retentionBytes >= 0n && total - BigInt(c.byteLength) >= policy.retentionBytes;
    if (!expired && !oversized) break;
    total -= BigInt(c.byteLength);
    cut = c.lastOffset + 1n;
  }
  return cut;
}

/** Applies retention.ms / retention.bytes in the background by advancing log starts. */
export class RetentionEnforcer {
  private readonly task: PeriodicTask<number>;

  constructor(private readonly opts: RetentionOptions) {
    this.task = new PeriodicTask({ run: () => this.pass(), intervalMs: opts.intervalMs, logger: opts.logger, failureMessage: 'retention pass failed' });
  }

  start(): void {
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task.stop();
  }

  /** One pass over every led partition; returns how many partitions were trimmed. */
  runOnce(): Promise<number> {
    return this.task.runOnce();
  }

  private async pass(): Promise<number> {
    const now = BigInt((this.opts.now ?? Date.now)());
    let trimmed = 0;
    for (const target of await this.opts.targets()) {
      const { policy } = target;
      if (!policy.deletes || (policy.retentionMs < 0n && policy.retentionBytes < 0n)) continue;
      for (let p = 0; p < target.partitions; p++) {
        if (!this.opts.leads(target.topic, p)) continue;
        const { logStartOffset } = await this.opts.log.offsets(target.topic, p);
        const chunks: IndexedChunk[] = [];
        for (let from = logStartOffset; ; ) {
          const page = await this.opts.chunks.findChunks(target.topic, p, from, PAGE);
          chunks.push(...page);
          if (page.length < PAGE) break;
          from = page[page.length - 1]!.lastOffset + 1n;
        }
        const cut = retentionCut(chunks, policy, now, logStartOffset);
        if (cut <= logStartOffset) continue;
        await this.opts.log.deleteRecords(target.topic, p, cut);
        this.opts.logger.info({ topic: target.topic, partition: p, logStartOffset: cut.toString() }, 'retention advanced the log start');
        trimmed++;
      }
    }
    return trimmed;
  }
}
