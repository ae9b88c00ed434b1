// A topic or partitions just created have no leader until the owning agents take their
// leases. Kafka answers CreateTopics once leaders exist, so clients that produce right
// after creating never see LEADER_NOT_AVAILABLE; this waits the same way, bounded.

import type { AgentCore } from '../agent-core.js';

/** Longest wait for leaders after an auto-create (the client asked for data, not a topic). */
export const AUTO_CREATE_LEADER_WAIT_MS = 3000;
/** Cap on the wait after CreateTopics or CreatePartitions, whatever timeoutMs the client sent. */
export const CREATE_LEADER_WAIT_MS = 10_000;

/** Waits for leaders of partitions [from, to) of `topic`; false when the wait timed out. */
export async function awaitNewLeaders(services: AgentCore, topic: string, from: number, to: number, timeoutMs: number): Promise<boolean> {
  if (timeoutMs <= 0 || to <= from) return true;
  const partitions = Array.from({ length: to - from }, (_, i) => ({ topic, partition: from + i }));
  const ok = await services.cluster.awaitLeaders(partitions, timeoutMs);
  if (!ok) services.logger.warn({ topic, from, to, timeoutMs }, 'new partitions still have no leader; clients will retry');
  return ok;
}
