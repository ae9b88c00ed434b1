import { bindingProblem, describeBinding, type AclBinding } from '../../agent/security/acl.js';
import { principalToString } from '../../agent/security/principal.js';
import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorizeCluster, requesterOf } from '../authorization.js';

/**
 * CreateAcls v0-3 (v0 has no pattern type: LITERAL). Needs ALTER on the cluster; one result
 * per creation, INVALID_REQUEST for a binding Kafka would refuse; SECURITY_DISABLED without
 * an authorizer. Every agent applies the new bindings within its ACL poll interval.
 */
export const createAclsHandler = defineHandler({
  apiKey: ApiKey.CreateAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(ctx, request) {
    const all = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode, errorMessage })) });
    if (!authorizeCluster(ctx, AclOperation.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    if (ctx.services.authorizer === undefined) return all(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    const results: Array<{ errorCode: number; errorMessage: string | null }> = [];
    const valid: AclBinding[] = [];
    for (const c of request.creations) {
      const binding = { resourceType: c.resourceType, resourceName: c.resourceName, patternType: c.resourcePatternType, principal: c.principal, host: c.host, operation: c.operation, permission: c.permissionType };
      const problem = bindingProblem(binding);
      if (problem) results.push({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem });
      else {
        results.push({ errorCode: 0, errorMessage: null });
        valid.push(binding as AclBinding);
      }
    }
    if (valid.length > 0) {
      await ctx.services.metadata.acls.create(valid);
      await ctx.services.aclSync?.refresh();
      ctx.services.logger.info({ principal: principalToString(requesterOf(ctx).principal), client: ctx.connection.remoteAddress, acls: valid.map(describeBinding) }, 'ACLs created');
    }
    return { throttleTimeMs: 0, results };
  },
});
