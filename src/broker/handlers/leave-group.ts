import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { getGroupCoordinator } from '../groups/group-coordinator-access.js';

/**
 * LeaveGroup v0-5: one member up to v2 (its error is the response's), a batch identified by
 * member id and/or group.instance.id from v3, a reason per member from v5.
 */
export const leaveGroupHandler = defineHandler({
  apiKey: ApiKey.LeaveGroup,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const v = ctx.apiVersion;
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    const leaving =
      v <= 2
        ? [{ memberId: request.memberId, groupInstanceId: null, reason: null }]
        : request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, reason: v >= 5 ? m.reason : null }));
    const result = getGroupCoordinator(ctx.services).leaveGroup(request.groupId, leaving);
    if (v <= 2) {
      const memberError = result.members.find((m) => m.errorCode !== ErrorCode.NONE)?.errorCode ?? ErrorCode.NONE;
      return { throttleTimeMs: 0, errorCode: result.errorCode !== ErrorCode.NONE ? result.errorCode : memberError };
    }
    return { throttleTimeMs: 0, errorCode: result.errorCode, members: result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: m.errorCode })) };
  },
});
