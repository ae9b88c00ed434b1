// Wire shapes of ACL filters and bindings (DescribeAcls, DeleteAcls, CreateAcls) to the
// core's model. The fields keep Kafka's codes; a value Kafka does not define stays as it is
// so that validation can refuse it by name.

import type { AclBindingFilter } from '../../agent/security/acl.js';

export interface WireAclFilter {
  readonly resourceTypeFilter: number;
  readonly resourceNameFilter: string | null;
  readonly patternTypeFilter: number;
  readonly principalFilter: string | null;
  readonly hostFilter: string | null;
  readonly operation: number;
  readonly permissionType: number;
}

export function filterOfWire(f: WireAclFilter): AclBindingFilter {
  return {
    resourceType: f.resourceTypeFilter,
    resourceName: f.resourceNameFilter,
    patternType: f.patternTypeFilter,
    principal: f.principalFilter,
    host: f.hostFilter,
    operation: f.operation,
    permission: f.permissionType,
  };
}
