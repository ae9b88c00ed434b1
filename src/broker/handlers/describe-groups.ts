import { ApiKey } from '../../protocol/api-codec.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { defineHandler } from '../handler.js';
import { AclOperation, authorize, authorizedOperations, ResourceType } from '../authorization.js';
import { getGroupCoordinator } from '../groups/group-coordinator-access.js';

import { OPERATIONS_NOT_REQUESTED } from './authorized-operations.js';

/**
 * DescribeGroups v0-5. Member metadata and assignments are shown only while the group is
 * Stable (as Kafka does); an unknown group is reported Dead without an error.
 */
export const describeGroupsHandler = defineHandler({
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const coordinator = getGroupCoordinator(ctx.services);
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => {
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
          return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: OPERATIONS_NOT_REQUESTED };
        }
        const g = coordinator.describeGroup(groupId);
        return {
          errorCode: g.errorCode,
          groupId,
          groupState: g.state,
          protocolType: g.protocolType,
          protocolData: g.protocol,
          members: g.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: m.metadata,
            memberAssignment: m.assignment,
          })),
          authorizedOperations: ctx.apiVersion >= 3 && request.includeAuthorizedOperations && g.errorCode === ErrorCode.NONE ? authorizedOperations(ctx, ResourceType.GROUP, groupId) : OPERATIONS_NOT_REQUESTED,
        };
      }),
    };
  },
});
