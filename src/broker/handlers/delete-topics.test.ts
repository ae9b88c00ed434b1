import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { DeleteTopicsRequestDeleteTopicState } from '../../protocol/messages/generated/delete-topics.js';
import { createTopicsHandler } from './create-topics.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { answered, callHandler, handlerKit, type HandlerKit } from './test-support/handler-kit.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

async function create(kit: HandlerKit, name: string): Promise<string> {
  const r = answered(await callHandler(kit, createTopicsHandler, 7, { topics: [{ name, numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false }));
  expect(r.topics![0]!.errorCode).toBe(0);
  return r.topics![0]!.topicId!;
}

async function deleteTopics(kit: HandlerKit, topics: DeleteTopicsRequestDeleteTopicState[]) {
  const r = answered(await callHandler(kit, deleteTopicsHandler, 6, { topics, timeoutMs: 1000 }));
  return r.responses!.map((x) => ({ name: x.name, topicId: x.topicId, errorCode: x.errorCode }));
}

describe('CreateTopics v7 and DeleteTopics v6: topic ids', () => {
  let kit: HandlerKit;

  beforeEach(async () => {
    kit = await handlerKit();
  });
  afterEach(async () => {
    await kit.close();
  });

  it('CreateTopics reports the id the topic keeps; DeleteTopics deletes by it and reports it', async () => {
    const id = await create(kit, 'orders');
    expect(id).not.toBe(ZERO_UUID);
    expect((await kit.services.topics.get('orders'))!.id).toBe(id);
    expect(await deleteTopics(kit, [{ name: null, topicId: id }])).toEqual([{ name: 'orders', topicId: id, errorCode: 0 }]);
    expect(await kit.services.topics.get('orders')).toBeUndefined();
    // the old id stays unknown after the name is re-created
    const newId = await create(kit, 'orders');
    expect(newId).not.toBe(id);
    expect(await deleteTopics(kit, [{ name: null, topicId: id }])).toEqual([{ name: null, topicId: id, errorCode: ErrorCode.UNKNOWN_TOPIC_ID }]);
    expect(await deleteTopics(kit, [{ name: 'orders', topicId: ZERO_UUID }])).toEqual([{ name: 'orders', topicId: newId, errorCode: 0 }]);
  });

  it('refuses an entry with both a name and an id, or neither, and deletes the others (Kafka KRaft)', async () => {
    const a = await create(kit, 'a');
    const b = await create(kit, 'b');
    const ghost = randomUUID();
    expect(await deleteTopics(kit, [{ name: 'a', topicId: a }, { name: null, topicId: ZERO_UUID }, { name: null, topicId: b }, { name: null, topicId: ghost }])).toEqual([
      { name: 'a', topicId: a, errorCode: ErrorCode.INVALID_REQUEST },
      { name: null, topicId: ZERO_UUID, errorCode: ErrorCode.INVALID_REQUEST },
      { name: 'b', topicId: b, errorCode: 0 },
      { name: null, topicId: ghost, errorCode: ErrorCode.UNKNOWN_TOPIC_ID },
    ]);
    expect((await kit.services.topics.list()).map((t) => t.name)).toEqual(['a']);
  });
});
