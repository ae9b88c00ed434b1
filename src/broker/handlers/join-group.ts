import { ApiKey } from '../../protocol/api-codec.js';
import { defineHandler } from '../handler.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { AclOperation, authorize, ResourceType } from '../authorization.js';
import { clientHostOf, getGroupCoordinator } from '../groups/group-coordinator-access.js';

/**
 * JoinGroup v0-9. v0 has no rebalance timeout (the session timeout serves), v4+ dynamic
 * members first get MEMBER_ID_REQUIRED, v5+ carry group.instance.id, v7+ report the
 * protocol type and a nullable protocol name, v9+ may tell a static leader to skip assigning.
 */
export const joinGroupHandler = defineHandler({
  apiKey: ApiKey.JoinGroup,
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, request) {
    const v = ctx.apiVersion;
    const groupInstanceId = v >= 5 ? request.groupInstanceId : null;
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, generationId: -1, protocolType: null, protocolName: v >= 7 ? null : '', leader: '', skipAssignment: false, memberId: request.memberId, members: [] };
    }
    const result = await getGroupCoordinator(ctx.services).joinGroup({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId,
      requireKnownMemberId: v >= 4 && groupInstanceId === null,
      supportSkippingAssignment: v >= 9,
      clientId: ctx.header.clientId ?? '',
      clientHost: clientHostOf(ctx.connection),
      rebalanceTimeoutMs: v === 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
      sessionTimeoutMs: request.sessionTimeoutMs,
      protocolType: request.protocolType,
      // copies: the decoded bytes are views into the request frame, and the group keeps them
      protocols: request.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      reason: v >= 8 ? request.reason : null,
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      generationId: result.generationId,
      protocolType: result.protocolType,
      protocolName: v >= 7 ? result.protocolName : (result.protocolName ?? ''),
      leader: result.leaderId,
      skipAssignment: result.skipAssignment,
      memberId: result.memberId,
      members: result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
    };
  },
});
