import type { ConsumerOptions, TopicPartition } from '../shared/streamhouse-client.js';

/**
 * The typed Consumer's group-membership options (issue 17 part 1): with a groupId and topics it
 * joins the group, which assigns partitions; a rebalance calls onPartitionsRevoked, then
 * onPartitionsAssigned. Spelled out here so the demo compiles against a client that does not
 * have them yet (such a client reads every partition: one instance is still exact).
 */
export type GroupConsumerOptions = ConsumerOptions & {
  readonly sessionTimeoutMs?: number;
  readonly assignor?: 'range' | 'sticky';
  readonly onPartitionsAssigned?: (tps: TopicPartition[]) => void | Promise<void>;
  readonly onPartitionsRevoked?: (tps: TopicPartition[]) => void | Promise<void>;
};
