import { ApiKey } from '../../protocol/api-codec.js';
import { defineHandler } from '../handler.js';
import { getGroupCoordinator } from '../groups/group-coordinator-access.js';

/** DeleteGroups v0-2: Empty groups are deleted with their offsets; one result per distinct id. */
export const deleteGroupsHandler = defineHandler({
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const results = await getGroupCoordinator(ctx.services).deleteGroups(request.groupsNames);
    return { throttleTimeMs: 0, results: [...results].map(([groupId, errorCode]) => ({ groupId, errorCode })) };
  },
});
