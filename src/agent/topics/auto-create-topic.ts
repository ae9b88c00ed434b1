// Auto-creation shared by every door (Kafka Metadata and Produce, gRPC produce). Creating a
// topic and waiting for its leaders is one step: a request for the same topic that arrives
// while another one's wait runs (librdkafka pipelines two Metadata requests for a new topic)
// waits for the same leaders instead of answering a leaderless topic.

import type { Topic } from '../../metadata/metadata-store.js';
import type { AgentCore } from '../agent-core.js';
import { AUTO_CREATE_LEADER_WAIT_MS, awaitNewLeaders } from '../cluster/await-new-leaders.js';

const inFlight = new WeakMap<AgentCore, Map<string, Promise<Topic>>>();

function pendingOf(core: AgentCore): Map<string, Promise<Topic>> {
  let pending = inFlight.get(core);
  if (!pending) inFlight.set(core, (pending = new Map()));
  return pending;
}

/**
 * The topic if it exists; while this agent is still auto-creating it, once its leaders
 * are known (or the bounded wait ran out).
 */
export async function existingTopic(core: AgentCore, name: string): Promise<Topic | undefined> {
  const creating = inFlight.get(core)?.get(name);
  if (creating) {
    try {
      return await creating;
    } catch {
      // the creating request reports its own failure; look for the topic as usual
    }
  }
  return core.topics.get(name);
}

/**
 * Creates `name` with the broker's defaults (or finds it created meanwhile) and waits,
 * bounded, for its partitions' leaders. Throws TopicError when the name is refused.
 */
export function autoCreateTopic(core: AgentCore, name: string, via: string): Promise<Topic> {
  const pending = pendingOf(core);
  const running = pending.get(name);
  if (running) return running;
  const creating = (async () => {
    const topic = await core.topics.autoCreate(name);
    core.logger.info({ topic: name, partitions: topic.partitionCount, via }, 'auto-created topic');
    await awaitNewLeaders(core, name, 0, topic.partitionCount, AUTO_CREATE_LEADER_WAIT_MS);
    return topic;
  })().finally(() => pending.delete(name));
  pending.set(name, creating);
  return creating;
}
