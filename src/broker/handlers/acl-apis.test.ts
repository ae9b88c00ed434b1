import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/error-codes.js';
import { answered, callHandler, handlerKit, type HandlerKit } from './test-support/handler-kit.js';
import { authorizingKit } from './test-support/authorizing-kit.js';
import { createAclsHandler } from './create-acls.js';
import { describeAclsHandler } from './describe-acls.js';
import { deleteAclsHandler } from './delete-acls.js';
import type { WireAclFilter } from './acl-filters.js';

// Kafka's codes: TOPIC 2, GROUP 3, CLUSTER 4; ANY 1, MATCH 2, LITERAL 3, PREFIXED 4; READ 3,
// WRITE 4, ALTER 7, DESCRIBE 8; DENY 2, ALLOW 3
const creation = (resourceName: string, principal = 'User:alice', operation = 3, resourcePatternType = 3, permissionType = 3, resourceType = 2) => ({ resourceType, resourceName, resourcePatternType, principal, host: '*', operation, permissionType });
const everything: WireAclFilter = { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 };

describe('ACL APIs', () => {
  let kit: HandlerKit | undefined;
  afterEach(async () => kit?.close());

  it('answer SECURITY_DISABLED without an authorizer', async () => {
    kit = await handlerKit();
    expect(answered(await callHandler(kit, createAclsHandler, 3, { creations: [creation('t')] })).results).toEqual([{ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.' }]);
    expect(answered(await callHandler(kit, describeAclsHandler, 3, everything))).toMatchObject({ errorCode: ErrorCode.SECURITY_DISABLED, resources: [] });
    expect(answered(await callHandler(kit, deleteAclsHandler, 3, { filters: [everything] })).filterResults).toEqual([{ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.', matchingAcls: [] }]);
    expect(await kit.store.acls.list()).toEqual([]);
  });

  it('create, describe by filter and delete bindings; refuse bad bindings and filters with INVALID_REQUEST', async () => {
    const k = await authorizingKit();
    kit = k;
    const admin = k.as('admin');
    const created = answered(await callHandler(k, createAclsHandler, 3, { creations: [creation('orders'), creation('app-', 'User:bob', 4, 4), creation('x', 'User:bob', 3, 2), creation('', 'User:bob'), creation('kafka-cluster', 'User:ops', 7, 3, 3, 4)] }, admin));
    expect(created.results!.map((r) => r!.errorCode)).toEqual([0, 0, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST, 0]);
    expect(created.results![2]!.errorMessage).toMatch(/pattern type MATCH/);
    const describe = async (filter: Partial<WireAclFilter>) => answered(await callHandler(k, describeAclsHandler, 3, { ...everything, ...filter }, admin));
    expect((await describe({})).resources).toEqual([
      { resourceType: 2, resourceName: 'app-', patternType: 4, acls: [{ principal: 'User:bob', host: '*', operation: 4, permissionType: 3 }] },
      { resourceType: 2, resourceName: 'orders', patternType: 3, acls: [{ principal: 'User:alice', host: '*', operation: 3, permissionType: 3 }] },
      { resourceType: 4, resourceName: 'kafka-cluster', patternType: 3, acls: [{ principal: 'User:ops', host: '*', operation: 7, permissionType: 3 }] },
    ]);
    expect((await describe({ patternTypeFilter: 2, resourceNameFilter: 'app-orders', resourceTypeFilter: 2 })).resources!.map((r) => r!.resourceName)).toEqual(['app-']);
    expect((await describe({ principalFilter: 'User:alice' })).resources!.map((r) => r!.resourceName)).toEqual(['orders']);
    expect(await describe({ patternTypeFilter: 0 })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, resources: [] });
    // v0 has no pattern type: LITERAL only
    expect(answered(await callHandler(k, describeAclsHandler, 0, { ...everything }, admin)).resources!.map((r) => r!.resourceName)).toEqual(['orders', 'kafka-cluster']);

    const deleted = answered(await callHandler(k, deleteAclsHandler, 3, { filters: [{ ...everything, principalFilter: 'User:bob' }, { ...everything, operation: 0 }] }, admin));
    expect(deleted.filterResults).toEqual([
      { errorCode: 0, errorMessage: null, matchingAcls: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 'app-', patternType: 4, principal: 'User:bob', host: '*', operation: 4, permissionType: 3 }] },
      { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'The operation filter is unknown', matchingAcls: [] },
    ]);
    expect((await k.store.acls.list()).map((b) => b.resourceName)).toEqual(['orders', 'kafka-cluster']);
  });

  it('need ALTER (create, delete) or DESCRIBE (describe) on the cluster', async () => {
    const k = await authorizingKit();
    kit = k;
    const alice = k.as('alice');
    expect(answered(await callHandler(k, createAclsHandler, 3, { creations: [creation('t')] }, alice)).results).toEqual([{ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' }]);
    expect(answered(await callHandler(k, describeAclsHandler, 3, everything, alice)).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(answered(await callHandler(k, deleteAclsHandler, 3, { filters: [everything] }, alice)).filterResults![0]!.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(await k.store.acls.list()).toEqual([]);
    // DESCRIBE on the cluster lets alice describe, not create
    await callHandler(k, createAclsHandler, 3, { creations: [creation('kafka-cluster', 'User:alice', 8, 3, 3, 4)] }, k.as('admin'));
    expect(answered(await callHandler(k, describeAclsHandler, 3, everything, alice)).errorCode).toBe(0);
    expect(answered(await callHandler(k, createAclsHandler, 3, { creations: [creation('t')] }, alice)).results![0]!.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });
});
