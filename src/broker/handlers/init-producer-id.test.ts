import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeResponse, encodeResponse } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { FIRST_PRODUCER_ID } from '../../metadata/metadata-store.js';
import type { InitProducerIdRequest } from '../../protocol/messages/generated/init-producer-id.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { answered, callHandler, handlerKit, type HandlerKit } from './test-support/handler-kit.js';
import { authorizingKit } from './test-support/authorizing-kit.js';
import { withTransactions, type TransactionKit } from './test-support/transaction-kit.js';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../agent/security/acl.js';

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

  it('answers an empty transactional id with INVALID_REQUEST, without a coordinator or an allocation', async () => {
    for (const v of [0, 1, 4]) expect(await init(kit, v, { transactionalId: '' })).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 });
    // nothing was allocated for them
    expect((await init(kit, 4, {})).producerId).toBe(FIRST_PRODUCER_ID);
  });

  it('fails (closing the connection) for a transactional id when the core has no transaction coordinator', async () => {
    await expect(init(kit, 4, { transactionalId: 'tx-1' })).rejects.toThrow('this agent core has no transaction coordinator');
  });

  it('refuses a transactional id the principal may not WRITE with TRANSACTIONAL_ID_AUTHORIZATION_FAILED', async () => {
    const k = await authorizingKit();
    try {
      const tk = withTransactions(k);
      const bob = k.as('bob');
      const call = (body: Partial<InitProducerIdRequest>, who = bob) => callHandler(tk.kit, initProducerIdHandler, 4, { transactionalId: null, transactionTimeoutMs: 60_000, ...body }, who);
      expect(await call({ transactionalId: 'tx-1' })).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 });
      expect(await k.store.transactions.get('tx-1')).toBeUndefined();
      // WRITE on the transactional id is enough
      await k.store.acls.create([{ resourceType: ResourceType.TRANSACTIONAL_ID, resourceName: 'tx-', patternType: PatternType.PREFIXED, principal: 'User:bob', host: '*', operation: AclOperation.WRITE, permission: AclPermission.ALLOW }]);
      await k.sync.refresh();
      expect(await call({ transactionalId: 'tx-1' })).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: FIRST_PRODUCER_ID, producerEpoch: 0 });
      expect(answered(await call({ transactionalId: 'other' })).errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    } finally {
      await k.close();
    }
  });

  describe('with a transaction coordinator', () => {
    let tk: TransactionKit;
    beforeEach(() => {
      tk = withTransactions(kit);
    });
    const txInit = (version: number, body: Partial<InitProducerIdRequest>) => init(tk.kit, version, { transactionalId: 'tx-1', ...body });

    it('gives a new transactional id a producer id with epoch 0, then the same id with the next epoch', async () => {
      expect(await txInit(4, {})).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: FIRST_PRODUCER_ID, producerEpoch: 0 });
      // v0-2 cannot name their current producer: the epoch is bumped anyway
      expect(await txInit(1, {})).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: FIRST_PRODUCER_ID, producerEpoch: 1 });
      // v3+ naming the current id and epoch (KIP-360)
      expect(await txInit(4, { producerId: FIRST_PRODUCER_ID, producerEpoch: 1 })).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: FIRST_PRODUCER_ID, producerEpoch: 2 });
      const stored = await tk.kit.store.transactions.get('tx-1');
      expect([stored!.producerId, stored!.producerEpoch, stored!.state, stored!.timeoutMs]).toEqual([FIRST_PRODUCER_ID, 2, 'Empty', 60_000]);
      // an idempotent producer gets the next id
      expect((await init(tk.kit, 4, {})).producerId).toBe(FIRST_PRODUCER_ID + 1n);
    });

    it('fences a v3+ producer naming an old epoch: PRODUCER_FENCED from v4, INVALID_PRODUCER_EPOCH before', async () => {
      await txInit(4, {});
      await txInit(4, { producerId: FIRST_PRODUCER_ID, producerEpoch: 0 });
      await txInit(4, { producerId: FIRST_PRODUCER_ID, producerEpoch: 1 });
      expect(await txInit(4, { producerId: FIRST_PRODUCER_ID, producerEpoch: 0 })).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.PRODUCER_FENCED, producerId: -1n, producerEpoch: -1 });
      expect(await txInit(3, { producerId: FIRST_PRODUCER_ID, producerEpoch: 0 })).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.INVALID_PRODUCER_EPOCH, producerId: -1n, producerEpoch: -1 });
      expect((await tk.kit.store.transactions.get('tx-1'))!.producerEpoch).toBe(2);
    });

    it('answers INVALID_TRANSACTION_TIMEOUT and NOT_COORDINATOR from the coordinator', async () => {
      for (const transactionTimeoutMs of [0, -1, 900_001]) {
        expect(await txInit(4, { transactionTimeoutMs })).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.INVALID_TRANSACTION_TIMEOUT, producerId: -1n, producerEpoch: -1 });
      }
      expect((await txInit(4, { transactionTimeoutMs: 900_000 })).errorCode).toBe(0);
      tk.local = false;
      expect(await txInit(4, {})).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.NOT_COORDINATOR, producerId: -1n, producerEpoch: -1 });
    });

    it('encodes a transactional answer at every version 0-4', async () => {
      for (let v = 0; v <= 4; v++) {
        const r = await txInit(v, {});
        const { body } = decodeResponse(22, v, encodeResponse(22, v, 5, r).subarray(4));
        expect(body).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: FIRST_PRODUCER_ID, producerEpoch: v });
      }
    });
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
