// The Kafka door's side of authorization (docs/security.md): who the connection is, as the
// core's Authorizer sees it, and the checks handlers make. With no authorizer configured
// every check passes and the authorized-operation fields keep their "everything" constants.

import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType, type BindableResourceType } from '../agent/security/acl.js';
import { hostOfAddress, type Requester } from '../agent/security/authorizer.js';
import { ANONYMOUS } from '../agent/security/principal.js';
import type { RequestContext } from './handler.js';
import { allOperationsOf } from './handlers/authorized-operations.js';

export { AclOperation, ResourceType };

const requesters = new WeakMap<RequestContext['connection'], { session: unknown; requester: Requester }>();

/** The connection's requester; recomputed only when its session changed (re-authentication). */
export function requesterOf(ctx: RequestContext): Requester {
  const session = ctx.connection.session;
  const cached = requesters.get(ctx.connection);
  if (cached && cached.session === session) return cached.requester;
  const requester = { principal: session?.principal ?? ANONYMOUS, host: hostOfAddress(ctx.connection.remoteAddress), client: ctx.connection.remoteAddress };
  requesters.set(ctx.connection, { session, requester });
  return requester;
}

/** Whether ACLs are enforced at all (authorizer.class.name set). */
export function authorizing(ctx: RequestContext): boolean {
  return ctx.services.authorizer !== undefined;
}

/** One audited check: false (logged and counted) when the authorizer refuses it. */
export function authorize(ctx: RequestContext, op: AclOperation, type: BindableResourceType, name: string): boolean {
  const a = ctx.services.authorizer;
  return a === undefined || a.authorize(requesterOf(ctx), op, type, name);
}

/** A check that only shapes an answer (what Metadata or ListGroups shows): not audited. */
export function permits(ctx: RequestContext, op: AclOperation, type: BindableResourceType, name: string): boolean {
  const a = ctx.services.authorizer;
  return a === undefined || a.authorize(requesterOf(ctx), op, type, name, false);
}

export function authorizeCluster(ctx: RequestContext, op: AclOperation): boolean {
  return authorize(ctx, op, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
}

/** Creating a topic: CREATE on the cluster or on the topic (Kafka checks the cluster quietly first). */
export function authorizeTopicCreate(ctx: RequestContext, topic: string): boolean {
  return permits(ctx, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME) || authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, topic);
}

/** Kafka's authorized-operations bit field of the resource for this connection. */
export function authorizedOperations(ctx: RequestContext, type: BindableResourceType, name: string): number {
  const a = ctx.services.authorizer;
  return a === undefined ? allOperationsOf(type) : a.authorizedOperations(requesterOf(ctx), type, name);
}
