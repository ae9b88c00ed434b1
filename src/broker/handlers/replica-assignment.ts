import { ErrorCode } from '../../protocol/error-codes.js';
import { TopicError } from '../../agent/topics/topic-service.js';

/**
 * A manual replica assignment names brokers for one new partition. Storage is shared, so the
 * leader is chosen by lease and the list only has to make sense: not empty, registered brokers,
 * none twice (Kafka's KRaft controller refuses these with INVALID_REPLICA_ASSIGNMENT and the
 * same messages). Its length is not checked against earlier partitions: any factor is accepted.
 */
export function checkReplicaAssignment(brokerIds: readonly number[], registered: ReadonlySet<number>): void {
  if (brokerIds.length === 0) throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.');
  const seen = new Set<number>();
  for (const id of [...brokerIds].sort((a, b) => a - b)) {
    if (!registered.has(id)) throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${id}, but no such broker is registered.`);
    if (seen.has(id)) throw new TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${id} more than once.`);
    seen.add(id);
  }
}
