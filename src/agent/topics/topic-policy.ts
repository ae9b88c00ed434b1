import type { CompressionType } from '../../protocol/records/compression.js';
import { forcedCompression } from '../recompress.js';

/**
 * What a topic's configs mean to the agent, parsed once from the effective values (the topic's
 * own, else the broker's): the log, retention, DeleteRecords and produce read this, not strings.
 */
export interface TopicPolicy {
  /** Records older than this are removed; -1 keeps them. */
  readonly retentionMs: bigint;
  /** A partition is trimmed down to this many bytes; -1 for no limit. */
  readonly retentionBytes: bigint;
  /** cleanup.policy includes delete (retention and DeleteRecords apply). */
  readonly deletes: boolean;
  /** cleanup.policy includes compact. */
  readonly compacts: boolean;
  /** Largest record batch accepted. */
  readonly maxMessageBytes: number;
  /** The codec batches are re-encoded with; undefined keeps them as produced. */
  readonly compression: CompressionType | undefined;
  /** message.timestamp.type is LogAppendTime. */
  readonly logAppendTime: boolean;
}

export function parseTopicPolicy(effective: (name: string) => string | null): TopicPolicy {
  const policies = (effective('cleanup.policy') ?? 'delete').split(',').map((p) => p.trim());
  return {
    retentionMs: BigInt(effective('retention.ms') ?? '-1'),
    retentionBytes: BigInt(effective('retention.bytes') ?? '-1'),
    deletes: policies.includes('delete'),
    compacts: policies.includes('compact'),
    maxMessageBytes: Number(effective('max.message.bytes') ?? '1048588'),
    compression: forcedCompression(effective('compression.type')),
    logAppendTime: effective('message.timestamp.type') === 'LogAppendTime',
  };
}
