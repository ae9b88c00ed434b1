import { ApiKey } from '../../protocol/api-codec.js';
import { defineHandler } from '../handler.js';
import { AclOperation, permits, ResourceType } from '../authorization.js';
import { CLUSTER_RESOURCE_NAME } from '../../agent/security/acl.js';
import { getGroupCoordinator } from '../groups/group-coordinator-access.js';

/** The only group type this broker has (KIP-848 "consumer" groups do not exist yet). */
export const CLASSIC_GROUP_TYPE = 'classic';

/**
 * ListGroups v0-5: the groups this agent coordinates; a state filter from v4, a type filter
 * from v5. As in Kafka, DESCRIBE on the cluster shows all, otherwise only groups the caller may describe.
 */
export const listGroupsHandler = defineHandler({
  apiKey: ApiKey.ListGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const v = ctx.apiVersion;
    const result = getGroupCoordinator(ctx.services).listGroups(v >= 4 ? request.statesFilter : []);
    const types = v >= 5 ? request.typesFilter : [];
    const typeMatches = types.length === 0 || types.some((t) => t.toLowerCase() === CLASSIC_GROUP_TYPE);
    const all = permits(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
    const visible = all ? result.groups : result.groups.filter((g) => permits(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId));
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      groups: typeMatches ? visible.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: CLASSIC_GROUP_TYPE })) : [],
    };
  },
});
