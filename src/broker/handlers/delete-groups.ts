import { ApiKey } from '../../protocol/api-codec.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { getGroupCoordinator } from '../groups/group-coordinator-access.js';

/**
 * DeleteGroups v0-2: Empty groups are deleted with their offsets; one result per distinct id.
 * A group the caller may not DELETE gets GROUP_AUTHORIZATION_FAILED and is left alone.
 */
export const deleteGroupsHandler = defineHandler({
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const ids = [...new Set(request.groupsNames)];
    const denied = ids.filter((id) => !authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, id));
    const allowed = ids.filter((id) => !denied.includes(id));
    const results = allowed.length > 0 ? await getGroupCoordinator(ctx.services).deleteGroups(allowed) : new Map<string, number>();
    return { throttleTimeMs: 0, results: [...[...results].map(([groupId, errorCode]) => ({ groupId, errorCode })), ...denied.map((groupId) => ({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED }))] };
  },
});
