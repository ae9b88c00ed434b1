import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/error-codes.js';
import { handlerKit, type HandlerKit } from '../../broker/handlers/test-support/handler-kit.js';
import { TopicError, TopicService } from './topic-service.js';

describe('TopicService.create', () => {
  let kit: HandlerKit;

  beforeEach(async () => {
    kit = await handlerKit();
  });

  afterEach(async () => {
    await kit.close();
  });

  it('answers concurrent creates of one name (as two services starting together send) with one topic and TOPIC_ALREADY_EXISTS, not a collision', async () => {
    // a cluster agent: a cache miss asks the store. The second create's look-up read the store
    // before the first create committed and answers after it (PostgreSQL did this in CI)
    const topics = new TopicService(kit.store, kit.services.config, true);
    const storeGet = kit.store.topics.get.bind(kit.store.topics);
    let lookups = 0;
    let firstDone!: () => void;
    const first = new Promise<void>((resolve) => (firstDone = resolve));
    kit.store.topics.get = async (name) => {
      const answer = await storeGet(name);
      if (++lookups === 2) await first;
      return answer;
    };
    const a = topics.create({ name: 'orders', partitions: 6, configs: {} });
    const b = topics.create({ name: 'orders', partitions: 6, configs: {} });
    await expect(a).resolves.toMatchObject({ name: 'orders', partitionCount: 6 });
    firstDone();
    const refused = await b.then(() => undefined, (e: unknown) => e);
    expect(refused instanceof TopicError ? [refused.errorCode, refused.message] : refused).toEqual([ErrorCode.TOPIC_ALREADY_EXISTS, "Topic 'orders' already exists."]);
    expect(lookups).toBe(2);
    kit.store.topics.get = storeGet;
    // a name that only differs by '.' and '_' still collides
    await expect(topics.create({ name: 'a.b', partitions: 1, configs: {} })).resolves.toMatchObject({ name: 'a.b' });
    await expect(topics.create({ name: 'a_b', partitions: 1, configs: {} })).rejects.toMatchObject({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, message: "Topic 'a_b' collides with existing topic: a.b" });
  });
});
