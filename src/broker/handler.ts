import type { AgentCore } from '../agent/agent-core.js';
import type { ApiKey, RequestOf, ResponseOf } from '../protocol/api-codec.js';
import type { ByteParts } from '../protocol/primitives/writer.js';
import type { RequestHeader } from '../protocol/headers.js';
import type { SecurityProtocol, SecuritySession } from '../agent/security/principal.js';

/**
 * Response objects may leave out fields: the encoder fills Kafka's defaults. Bytes fields may
 * be given as ByteParts, whose large parts the connection writes by reference (not copied).
 */
export type Loose<T> = T extends Buffer
  ? T | ByteParts
  : T extends Array<infer E>
    ? Array<Loose<E>>
    : T extends object
      ? { [K in keyof T]?: Loose<T[K]> }
      : T;

/** Returned by a handler that must not answer (Produce with acks=0). */
export const NO_RESPONSE = Symbol('no-response');


/** Per-connection state that outlives one request. */
export interface ConnectionState {
  readonly id: number;
  readonly remoteAddress: string;
  clientId: string | null;
  clientSoftwareName: string | null;
  clientSoftwareVersion: string | null;
  /** Aborted when the connection closes, so long-polls stop waiting for nobody. */
  readonly closed?: AbortSignal;
  /** The listener the client connected on: Metadata and FindCoordinator advertise its addresses. */
  readonly listenerName?: string;
  readonly securityProtocol?: SecurityProtocol;
  /**
   * Who the client is (docs/security.md): ANONYMOUS on PLAINTEXT, the certificate's principal
   * on SSL, the SASL login on SASL listeners (null until it completes). For the authorizer.
   */
  session?: SecuritySession | null;
}

export interface RequestContext {
  readonly header: RequestHeader;
  readonly apiVersion: number;
  readonly connection: ConnectionState;
  readonly services: AgentCore;
}

export interface ApiHandler<K extends ApiKey = ApiKey> {
  readonly apiKey: K;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(ctx: RequestContext, request: RequestOf<K>): Promise<Loose<ResponseOf<K>> | typeof NO_RESPONSE> | Loose<ResponseOf<K>> | typeof NO_RESPONSE;
}

/** Helps TypeScript infer K from the apiKey literal. */
export function defineHandler<K extends ApiKey>(handler: ApiHandler<K>): ApiHandler<K> {
  return handler;
}
