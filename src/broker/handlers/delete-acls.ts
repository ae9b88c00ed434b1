import { describeBinding, filterMatches, filterProblem, type AclBinding, type AclBindingFilter } from '../../agent/security/acl.js';
import { toAclBinding } from '../../agent/security/acl-sync.js';
import { principalToString } from '../../agent/security/principal.js';
import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorizeCluster, requesterOf } from '../authorization.js';
import { filterOfWire } from './acl-filters.js';

/**
 * DeleteAcls v0-3: every stored binding any filter selects is removed; each filter's result
 * lists the bindings it matched. Needs ALTER on the cluster; INVALID_REQUEST for a filter
 * that cannot match; SECURITY_DISABLED without an authorizer.
 */
export const deleteAclsHandler = defineHandler({
  apiKey: ApiKey.DeleteAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request) {
    const all = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, filterResults: request.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })) });
    if (!authorizeCluster(ctx, AclOperation.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    if (ctx.services.authorizer === undefined) return all(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    const stored = (await ctx.services.metadata.acls.list()).map(toAclBinding).filter((b): b is AclBinding => b !== undefined);
    const filters: Array<{ filter: AclBindingFilter; problem: string | undefined; matched: AclBinding[] }> = request.filters.map((f) => {
      const filter = filterOfWire(f);
      const problem = filterProblem(filter);
      return { filter, problem, matched: problem ? [] : stored.filter((b) => filterMatches(filter, b)) };
    });
    const doomed = [...new Set(filters.flatMap((f) => f.matched))];
    if (doomed.length > 0) {
      const removed = await ctx.services.metadata.acls.delete(doomed);
      await ctx.services.aclSync?.refresh();
      ctx.services.logger.info({ principal: principalToString(requesterOf(ctx).principal), client: ctx.connection.remoteAddress, acls: removed.map((b) => describeBinding(b as AclBinding)) }, 'ACLs deleted');
    }
    return {
      throttleTimeMs: 0,
      filterResults: filters.map((f) =>
        f.problem
          ? { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: f.problem, matchingAcls: [] }
          : {
              errorCode: 0,
              errorMessage: null,
              matchingAcls: f.matched.map((b) => ({ errorCode: 0, errorMessage: null, resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permission })),
            },
      ),
    };
  },
});
