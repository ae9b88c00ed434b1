// Topic creation for tests that run brokers in cluster mode (postgres:// without
// --cluster false): partitions get a leader once a lease is taken, a moment after
// CreateTopics answers, and kafkajs's own wait for leaders gives up on the first
// UNKNOWN_TOPIC_OR_PARTITION. This waits for leaders the way a patient client would.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, ITopicConfig } from 'kafkajs';


/** Creates the topics, then waits until Metadata shows a leader for every partition. */
export async function createTopicsWithLeaders(admin: Admin, topics: ITopicConfig[], timeoutMs = 20_000): Promise<boolean> {
  const created = await admin.createTopics({ topics, waitForLeaders: false });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: described } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
      const ready = topics.every((t) => {
        const d = described.find((x) => x.name === t.topic);
        return d !== undefined && d.partitions.length === (t.numPartitions ?? 1) && d.partitions.every((p) => p.leader >= 0);
      });
      if (ready) return created;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`no leader for every partition of ${topics.map((t) => t.topic).join(', ')} within ${timeoutMs} ms`);
    await sleep(100);
  }
}
