import { filterMatches, filterProblem, type AclBinding } from '../../agent/security/acl.js';
import { toAclBinding } from '../../agent/security/acl-sync.js';
import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorizeCluster } from '../authorization.js';
import { filterOfWire } from './acl-filters.js';

/**
 * DescribeAcls v0-3: the stored bindings the filter selects, grouped by resource pattern.
 * Needs DESCRIBE on the cluster; SECURITY_DISABLED without an authorizer (as Kafka).
 */
export const describeAclsHandler = defineHandler({
  apiKey: ApiKey.DescribeAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request) {
    const refuse = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, errorCode, errorMessage, resources: [] });
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) return refuse(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    if (ctx.services.authorizer === undefined) return refuse(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    const filter = filterOfWire(request);
    const problem = filterProblem(filter);
    if (problem) return refuse(ErrorCode.INVALID_REQUEST, problem);
    // the store, not this agent's copy: an answer right after a change on another agent sees it
    const bindings = (await ctx.services.metadata.acls.list()).map(toAclBinding).filter((b): b is AclBinding => b !== undefined && filterMatches(filter, b));
    const resources = new Map<string, { resourceType: number; resourceName: string; patternType: number; acls: Array<{ principal: string; host: string; operation: number; permissionType: number }> }>();
    for (const b of bindings) {
      const key = `${b.resourceType}\0${b.patternType}\0${b.resourceName}`;
      let r = resources.get(key);
      if (!r) resources.set(key, (r = { resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, acls: [] }));
      r.acls.push({ principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permission });
    }
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, resources: [...resources.values()] };
  },
});
