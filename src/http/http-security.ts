// Security of the REST API (docs/security.md): every request under /api/v1 is authenticated
// by the core's DoorAuthenticator (Basic credentials of a SCRAM user, or ANONYMOUS) and each
// route asks the core's Authorizer for the same operation on the same resource as the Kafka
// API it stands for. A refusal is Kafka's error name with 403; a missing or wrong login 401
// with a Basic challenge (so a browser opening the console asks for it). /health, /ready,
// /metrics and the console's static files stay open, as probes and scrapers need them.

import { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AgentCore } from '../agent/agent-core.js';
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType, type BindableResourceType } from '../agent/security/acl.js';
import type { Requester } from '../agent/security/authorizer.js';
import type { ClientCertificate, DoorAuthenticator } from '../agent/security/door-authenticator.js';
import { ANONYMOUS } from '../agent/security/principal.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { fromKafkaError, HttpError } from './http-errors.js';

export { AclOperation, ResourceType };

const requesters = new WeakMap<FastifyRequest['raw'], Requester>();

const DENIED_CODE: Record<BindableResourceType, number> = {
  [ResourceType.TOPIC]: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  [ResourceType.GROUP]: ErrorCode.GROUP_AUTHORIZATION_FAILED,
  [ResourceType.CLUSTER]: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  [ResourceType.TRANSACTIONAL_ID]: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
};

function clientOf(req: FastifyRequest): string {
  const address = req.socket.remoteAddress ?? req.ip;
  return address.includes(':') ? `[${address}]:${req.socket.remotePort ?? 0}` : `${address}:${req.socket.remotePort ?? 0}`;
}

/** The TLS client certificate of the request's connection, if it sent one. */
function clientCertificate(req: FastifyRequest): ClientCertificate | undefined {
  const socket = req.raw.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return undefined;
  return { subject: cert.subject, verified: socket.authorized, ...(socket.authorizationError ? { error: String(socket.authorizationError) } : {}) };
}

/** Authenticates every request of the scope (the /api/v1 routes) before its route runs. */
export function authenticateRequests(app: FastifyInstance, doorAuthenticator: DoorAuthenticator): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const verdict = await doorAuthenticator.authenticate(req.headers.authorization, clientOf(req), clientCertificate(req));
    if (verdict.ok) {
      requesters.set(req.raw, verdict.requester);
      return;
    }
    void reply.header('www-authenticate', 'Basic realm="StreamHouse", charset="UTF-8"');
    throw verdict.problem === 'missing' ? new HttpError(401, 'AUTHENTICATION_REQUIRED', verdict.message) : new HttpError(401, 'AUTHENTICATION_FAILED', verdict.message);
  });
}

/** Who sent the request (ANONYMOUS when the scope does not authenticate). */
export function requesterOf(req: FastifyRequest): Requester {
  const known = requesters.get(req.raw);
  if (known) return known;
  const client = clientOf(req);
  return { principal: ANONYMOUS, host: req.socket.remoteAddress ?? req.ip, client };
}

/** An audited check: throws Kafka's authorization error (403) when the authorizer refuses. */
export function requireAllowed(core: AgentCore, req: FastifyRequest, op: AclOperation, type: BindableResourceType, name: string): void {
  const authorizer = core.authorizer;
  if (authorizer === undefined || authorizer.authorize(requesterOf(req), op, type, name)) return;
  throw fromKafkaError(DENIED_CODE[type], '');
}

/** A quiet check that only shapes an answer (which topics or groups a list shows). */
export function allowed(core: AgentCore, req: FastifyRequest, op: AclOperation, type: BindableResourceType, name: string): boolean {
  const authorizer = core.authorizer;
  return authorizer === undefined || authorizer.authorize(requesterOf(req), op, type, name, false);
}

/** DESCRIBE on the cluster: agents, cluster and storage views. */
export function requireClusterDescribe(core: AgentCore, req: FastifyRequest): void {
  requireAllowed(core, req, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
}

/** Creating a topic, as Kafka: CREATE on the cluster (checked quietly) or on the topic. */
export function requireTopicCreate(core: AgentCore, req: FastifyRequest, topic: string): void {
  if (allowed(core, req, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) return;
  requireAllowed(core, req, AclOperation.CREATE, ResourceType.TOPIC, topic);
}
