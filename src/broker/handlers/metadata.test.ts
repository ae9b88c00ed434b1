import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeResponse, encodeResponse } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import type { MetadataRequest, MetadataRequestTopic, MetadataResponse } from '../../protocol/messages/generated/metadata.js';
import { TopicService } from '../../agent/topics/topic-service.js';
import { metadataHandler } from './metadata.js';
import { answered, callHandler, handlerKit, type HandlerKit } from './test-support/handler-kit.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const byName = (name: string): MetadataRequestTopic => ({ name, topicId: ZERO_UUID });
const byId = (topicId: string): MetadataRequestTopic => ({ name: null, topicId });

/** The handler's answer as a client of `version` decodes it off the wire. */
async function metadata(kit: HandlerKit, version: number, topics: MetadataRequestTopic[] | null, opts: Partial<MetadataRequest> = {}): Promise<MetadataResponse> {
  const result = answered(await callHandler(kit, metadataHandler, version, { topics, allowAutoTopicCreation: false, ...opts }));
  return decodeResponse(3, version, encodeResponse(3, version, 5, result).subarray(4)).body;
}

function summary(r: MetadataResponse) {
  return r.topics.map((t) => ({ errorCode: t.errorCode, name: t.name, topicId: t.topicId, partitions: t.partitions.length }));
}

describe('Metadata handler: topic ids', () => {
  let kit: HandlerKit;
  let clicksId: string;

  beforeEach(async () => {
    kit = await handlerKit();
    clicksId = (await kit.services.topics.create({ name: 'clicks', partitions: 2, configs: {} })).id;
    await kit.services.topics.create({ name: 'views', partitions: 1, configs: {} });
  });
  afterEach(async () => {
    await kit.close();
  });

  it('advertises v0-12', () => {
    expect([metadataHandler.minVersion, metadataHandler.maxVersion]).toEqual([0, 12]);
  });

  it("reports each topic's real id from v10 on, asked by name or for all topics (earlier versions have no field)", async () => {
    expect(clicksId).toMatch(UUID_V4);
    for (let v = 0; v <= 12; v++) {
      const expected = v >= 10 ? clicksId : ZERO_UUID;
      expect(summary(await metadata(kit, v, [byName('clicks')])), `v${v} by name`).toEqual([{ errorCode: 0, name: 'clicks', topicId: expected, partitions: 2 }]);
      if (v >= 1) {
        const all = await metadata(kit, v, null);
        expect(all.topics.find((t) => t.name === 'clicks')?.topicId, `v${v} all topics`).toBe(expected);
      }
    }
  });

  it('keeps the id the store has: a fresh TopicService (a restart) reports the same one', async () => {
    const restarted = { ...kit, services: { ...kit.services, topics: new TopicService(kit.store, kit.services.config) } };
    expect(summary(await metadata(restarted, 12, [byName('clicks')]))).toEqual([{ errorCode: 0, name: 'clicks', topicId: clicksId, partitions: 2 }]);
    expect(summary(await metadata(restarted, 12, [byId(clicksId)]))).toEqual([{ errorCode: 0, name: 'clicks', topicId: clicksId, partitions: 2 }]);
  });

  it('gives a deleted and re-created topic a new id, and answers UNKNOWN_TOPIC_ID (null name, no partitions) for the old one', async () => {
    await kit.services.topics.delete('clicks');
    const recreated = await kit.services.topics.create({ name: 'clicks', partitions: 1, configs: {} });
    expect(recreated.id).toMatch(UUID_V4);
    expect(recreated.id).not.toBe(clicksId);
    expect(summary(await metadata(kit, 12, [byName('clicks')]))).toEqual([{ errorCode: 0, name: 'clicks', topicId: recreated.id, partitions: 1 }]);
    expect(summary(await metadata(kit, 12, [byId(clicksId)]))).toEqual([{ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: clicksId, partitions: 0 }]);
    expect(summary(await metadata(kit, 12, [byId(recreated.id)]))).toEqual([{ errorCode: 0, name: 'clicks', topicId: recreated.id, partitions: 1 }]);
  });

  it('v12 answers a request that names topics by id by id alone: each id once, name-only entries ignored, unknown ids UNKNOWN_TOPIC_ID', async () => {
    const viewsId = (await kit.services.topics.get('views'))!.id;
    const ghost = randomUUID();
    const r = await metadata(kit, 12, [byId(clicksId), byName('views'), byId(ghost), byId(clicksId), { name: 'ignored', topicId: viewsId }]);
    expect(summary(r)).toEqual([
      { errorCode: 0, name: 'clicks', topicId: clicksId, partitions: 2 },
      { errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: ghost, partitions: 0 },
      { errorCode: 0, name: 'views', topicId: viewsId, partitions: 1 },
    ]);
    expect(r.brokers).toHaveLength(1);
    expect(r.clusterId).toBe(kit.services.cluster.clusterId);
  });

  it("in a cluster, finds a topic another agent just re-created by its new id before the agent's cache catches up", async () => {
    const self = new TopicService(kit.store, kit.services.config, true);
    const agent = { ...kit, services: { ...kit.services, topics: self } };
    expect(summary(await metadata(agent, 12, [byName('clicks')]))[0]!.topicId).toBe(clicksId);
    // another agent on the same store
    const other = new TopicService(kit.store, kit.services.config, true);
    await other.delete('clicks');
    const recreated = await other.create({ name: 'clicks', partitions: 3, configs: {} });
    expect(summary(await metadata(agent, 12, [byId(recreated.id)]))).toEqual([{ errorCode: 0, name: 'clicks', topicId: recreated.id, partitions: 3 }]);
    // ... which replaced the stale entry: by name and by the old id too
    expect(summary(await metadata(agent, 12, [byName('clicks')]))).toEqual([{ errorCode: 0, name: 'clicks', topicId: recreated.id, partitions: 3 }]);
    expect(summary(await metadata(agent, 12, [byId(clicksId)]))[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
  });

  it('never auto-creates a topic asked for by id', async () => {
    const auto = await handlerKit({ autoCreateTopics: true });
    try {
      const ghost = randomUUID();
      expect(summary(await metadata(auto, 12, [byId(ghost)], { allowAutoTopicCreation: true }))).toEqual([{ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: ghost, partitions: 0 }]);
      expect(await auto.services.topics.list()).toEqual([]);
      // by name it does, and the answer carries the new topic's id
      const [created] = summary(await metadata(auto, 12, [byName('fresh')], { allowAutoTopicCreation: true }));
      expect(created).toMatchObject({ errorCode: 0, name: 'fresh', partitions: 1 });
      expect(created!.topicId).toBe((await auto.services.topics.get('fresh'))!.id);
    } finally {
      await auto.close();
    }
  });

  it('v10 and v11 refuse a topic id or a null name with INVALID_REQUEST for every topic, as Kafka 3.9 does', async () => {
    for (const v of [10, 11]) {
      const withId = await metadata(kit, v, [byName('views'), { name: 'clicks', topicId: clicksId }]);
      expect(summary(withId), `v${v} id`).toEqual([
        { errorCode: ErrorCode.INVALID_REQUEST, name: 'views', topicId: ZERO_UUID, partitions: 0 },
        { errorCode: ErrorCode.INVALID_REQUEST, name: 'clicks', topicId: clicksId, partitions: 0 },
      ]);
      expect([withId.brokers, withId.clusterId, withId.controllerId]).toEqual([[], null, -1]);
      expect(summary(await metadata(kit, v, [{ name: null, topicId: ZERO_UUID }])), `v${v} null name`).toEqual([{ errorCode: ErrorCode.INVALID_REQUEST, name: '', topicId: ZERO_UUID, partitions: 0 }]);
    }
  });

  it('answers unknown and invalid names with the zero id', async () => {
    expect(summary(await metadata(kit, 12, [byName('nope'), byName('bad name!')]))).toEqual([
      { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name: 'nope', topicId: ZERO_UUID, partitions: 0 },
      { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, name: 'bad name!', topicId: ZERO_UUID, partitions: 0 },
    ]);
  });
});
