import { ApiKey } from '../../protocol/api-codec.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { getGroupCoordinator } from '../groups/group-coordinator-access.js';

/** Heartbeat v0-4: keeps the member's session alive and tells it when to rejoin. */
export const heartbeatHandler = defineHandler({
  apiKey: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const errorCode = getGroupCoordinator(ctx.services).heartbeat(request.groupId, request.memberId, ctx.apiVersion >= 3 ? request.groupInstanceId : null, request.generationId);
    return { throttleTimeMs: 0, errorCode };
  },
});
