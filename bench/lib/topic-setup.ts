import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, errorInfo } from '../../src/protocol/error-codes.js';
import type { KafkaConnection } from '../../test-kit/kafka-connection.js';

/**
 * Creates the topic with CreateTopics (an existing topic with the same partition count is
 * fine) and waits until Metadata shows a leader for every partition.
 */
export async function ensureTopic(conn: KafkaConnection, name: string, partitions: number): Promise<void> {
  const created = await conn.request(19, 5, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 30000,
    validateOnly: false,
  });
  const result = created.topics[0];
  if (!result) throw new Error(`CreateTopics returned no result for ${name}`);
  if (result.errorCode !== 0 && result.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
    throw new Error(`CreateTopics ${name}: ${errorInfo(result.errorCode).name} ${result.errorMessage ?? ''}`);
  }
  const deadline = Date.now() + 30000;
  for (;;) {
    const md = await conn.request(3, 8, { topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    const t = md.topics.find((x) => x.name === name);
    if (t && t.errorCode === 0) {
      if (t.partitions.length !== partitions) throw new Error(`topic ${name} exists with ${t.partitions.length} partitions, wanted ${partitions}`);
      if (t.partitions.every((p) => p.errorCode === 0 && p.leaderId >= 0)) return;
    }
    if (Date.now() > deadline) throw new Error(`topic ${name} has no leaders after 30 s`);
    await sleep(100);
  }
}
