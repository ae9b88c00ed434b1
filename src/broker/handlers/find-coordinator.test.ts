import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/error-codes.js';
import { groupHandlerKit, wireCall, type GroupHandlerKit } from '../groups/test-support/group-handler-kit.js';
import { findCoordinatorHandler } from './find-coordinator.js';

describe('FindCoordinator handler', () => {
  let kit: GroupHandlerKit;

  beforeEach(async () => {
    kit = await groupHandlerKit({}, { nodeId: 3, advertisedListener: { host: 'broker.example', port: 19092 } });
  });
  afterEach(async () => {
    await kit.close();
  });

  it('v0 names this agent for a group', async () => {
    expect(await wireCall(kit, findCoordinatorHandler, 0, { key: 'g' })).toEqual({ throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 3, host: 'broker.example', port: 19092, coordinators: [] });
  });

  it('v1-v3 carry Kafka\'s error message ("NONE" on success)', async () => {
    for (const v of [1, 2, 3]) {
      expect(await wireCall(kit, findCoordinatorHandler, v, { key: 'g', keyType: 0 })).toEqual({ throttleTimeMs: 0, errorCode: 0, errorMessage: 'NONE', nodeId: 3, host: 'broker.example', port: 19092, coordinators: [] });
    }
    // the empty group id has a coordinator too (Kafka does not validate it here)
    expect((await wireCall(kit, findCoordinatorHandler, 2, { key: '', keyType: 0 })).nodeId).toBe(3);
  });

  it('names the coordinator of a transactional id (key type 1) like a group\'s, and refuses unknown key types', async () => {
    for (const v of [1, 2, 3]) {
      expect(await wireCall(kit, findCoordinatorHandler, v, { key: 'tx', keyType: 1 })).toEqual({
        throttleTimeMs: 0,
        errorCode: 0,
        errorMessage: 'NONE',
        nodeId: 3,
        host: 'broker.example',
        port: 19092,
        coordinators: [],
      });
    }
    expect((await wireCall(kit, findCoordinatorHandler, 4, { keyType: 1, coordinatorKeys: ['tx-a', 'tx-b'] })).coordinators).toEqual([
      { key: 'tx-a', nodeId: 3, host: 'broker.example', port: 19092, errorCode: 0, errorMessage: null },
      { key: 'tx-b', nodeId: 3, host: 'broker.example', port: 19092, errorCode: 0, errorMessage: null },
    ]);
    kit.locator.local = false;
    expect(await wireCall(kit, findCoordinatorHandler, 3, { key: 'tx', keyType: 1 })).toEqual({
      throttleTimeMs: 0,
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
      errorMessage: 'The coordinator is not available.',
      nodeId: -1,
      host: '',
      port: -1,
      coordinators: [],
    });
    expect((await wireCall(kit, findCoordinatorHandler, 1, { key: 'x', keyType: 7 })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('v4 answers a batch of keys, each with its own error', async () => {
    const res = await wireCall(kit, findCoordinatorHandler, 4, { keyType: 0, coordinatorKeys: ['a', 'b'] });
    expect(res.coordinators).toEqual([
      { key: 'a', nodeId: 3, host: 'broker.example', port: 19092, errorCode: 0, errorMessage: null },
      { key: 'b', nodeId: 3, host: 'broker.example', port: 19092, errorCode: 0, errorMessage: null },
    ]);
    kit.locator.local = false;
    expect((await wireCall(kit, findCoordinatorHandler, 4, { keyType: 0, coordinatorKeys: ['a'] })).coordinators).toEqual([
      { key: 'a', nodeId: -1, host: '', port: -1, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: null },
    ]);
    expect((await wireCall(kit, findCoordinatorHandler, 4, { keyType: 1, coordinatorKeys: ['t'] })).coordinators[0]!.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });
});
