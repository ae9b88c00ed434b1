import { ErrorCode } from '../../protocol/error-codes.js';
import type { AgentCore } from '../../agent/agent-core.js';

/**
 * Kafka's check of a client's `currentLeaderEpoch` (KIP-320): -1 skips it, an older epoch is
 * fenced (the client's metadata is stale), a newer one is unknown to this broker (ours is).
 * Returns the error code to answer, or undefined when the request may proceed.
 */
export function leaderEpochError(services: AgentCore, topic: string, partition: number, requested: number): number | undefined {
  if (requested < 0) return undefined;
  const leader = services.cluster.leaderOf(topic, partition);
  if (!leader) return undefined;
  if (requested < leader.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
  if (requested > leader.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  return undefined;
}

/** The epoch clients are told alongside offsets (ListOffsets v4+). */
export function currentLeaderEpoch(services: AgentCore, topic: string, partition: number): number {
  return services.cluster.leaderOf(topic, partition)?.leaderEpoch ?? 0;
}
