import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeResponse, encodeResponse } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { FIRST_PRODUCER_ID } from '../../metadata/metadata-store.js';
import type { InitProducerIdRequest } from '../../protocol/messages/generated/init-producer-id.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { answered, callHandler, handlerKit, type HandlerKit } from './test-support/handler-kit.js';

async function init(kit: HandlerKit, version: number, body: Partial<InitProducerIdRequest>) {
  return answered(await callHandler(kit, initProducerIdHandler, version, { transactionalId: null, transactionTimeoutMs: 60_000, ...body }));
}

describe('InitProducerId handler', () => {
  let kit: HandlerKit;

  beforeEach(async () => {
    kit = await handlerKit();
  });
  afterEach(async () => {
    await kit.close();
  });

  it('hands every idempotent producer a new id with epoch 0', async () => {
    expect(await init(kit, 0, {})).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: FIRST_PRODUCER_ID, producerEpoch: 0 });
    expect(await init(kit, 4, {})).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: FIRST_PRODUCER_ID + 1n, producerEpoch: 0 });
  });

  it('answers a v3+ re-initialisation with the current id and epoch like Kafka does: a fresh id, epoch 0', async () => {
    const first = await init(kit, 4, {});
    const again = await init(kit, 4, { producerId: first.producerId, producerEpoch: 5 });
    expect(again).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: FIRST_PRODUCER_ID + 1n, producerEpoch: 0 });
  });

  it('refuses transactional ids (not supported yet) and an empty one as a bad request', async () => {
    expect(await init(kit, 4, { transactionalId: 'tx-1' })).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 });
    expect(await init(kit, 1, { transactionalId: '' })).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 });
    // nothing was allocated for them
    expect((await init(kit, 4, {})).producerId).toBe(FIRST_PRODUCER_ID);
  });

  it('answers COORDINATOR_NOT_AVAILABLE (retriable) when the store cannot allocate', async () => {
    await kit.store.close();
    expect(await init(kit, 4, {})).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, producerId: -1n, producerEpoch: -1 });
  });

  it('encodes its answer at every advertised version 0-4', async () => {
    expect([initProducerIdHandler.minVersion, initProducerIdHandler.maxVersion]).toEqual([0, 4]);
    for (let v = 0; v <= 4; v++) {
      const r = await init(kit, v, {});
      const { body } = decodeResponse(22, v, encodeResponse(22, v, 5, r).subarray(4));
      expect(body).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: FIRST_PRODUCER_ID + BigInt(v), producerEpoch: 0 });
    }
  });
});
