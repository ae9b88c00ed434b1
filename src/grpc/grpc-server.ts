import { Server, ServerCredentials, status, type Metadata, type ServerUnaryCall, type ServerWritableStream, type ServiceError, type UntypedServiceImplementation, type sendUnaryData } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import type { AgentCore } from '../agent/agent-core.js';
import { AclOperation, ResourceType } from '../agent/security/acl.js';
import { ANONYMOUS } from '../agent/security/principal.js';
import { hostOfAddress } from '../agent/security/authorizer.js';
import type { DoorAuthenticator } from '../agent/security/door-authenticator.js';
import type { TlsFiles } from '../agent/security/tls-files.js';
import { authenticateCall, CallAccess, CALL_CHECKS } from './grpc-security.js';
import { reloadingServerCredentials } from './grpc-tls.js';
import { AdminService } from './admin-service.js';
import { ConsumerService, type SubscribeSink } from './consumer-service.js';
import { GroupMembership } from './group-membership.js';
import { GrpcError, toServiceError } from './grpc-status.js';
import type { SubscribeRequestMsg, SubscribeResponseMsg } from './messages.js';
import { serviceDefinition } from './proto-definition.js';
import { ProducerService } from './producer-service.js';

export interface GrpcServerOptions {
  /** The HTTP port the agent actually listens on, for ListAgents. */
  readonly httpPort?: () => number;
  /** Who calls are (absent: everyone ANONYMOUS). */
  readonly authenticator?: DoorAuthenticator;
  /** TLS with these files (reloaded files serve new connections). */
  readonly tls?: TlsFiles;
}

/** The proto package of the services, the first part of their full names in metric labels. */
const PROTO_PACKAGE = 'streamhouse.v1';

type ServiceName = 'ProducerService' | 'ConsumerService' | 'AdminService';

/** grpc-js's name for a status code (OK, NOT_FOUND, ...), as metric labels carry it. */
function statusName(code: status | undefined): string {
  return (code !== undefined && status[code]) || 'UNKNOWN';
}

/** How long close() lets unary calls finish before cutting connections. */
const CLOSE_GRACE_MS = 5000;

/** The native API (docs/architecture.md §10) on @grpc/grpc-js: ProducerService, ConsumerService, AdminService. */
export class GrpcServer {
  private readonly server: Server;
  /** Calls in progress: close() aborts them so long-polls and streams end at once. */
  private readonly calls = new Set<AbortController>();
  private port = 0;
  private listening = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly services: AgentCore,
    private readonly options: GrpcServerOptions = {},
  ) {
    this.server = new Server({
      'grpc.max_receive_message_length': services.config.socketRequestMaxBytes,
    });
    const producer = new ProducerService(services);
    const consumer = new ConsumerService(services);
    const membership = new GroupMembership(services);
    const admin = new AdminService(services, {
      ports: () => ({ grpc: this.port, http: options.httpPort?.() ?? services.config.httpPort }),
      startedAtMs: Date.now(),
    });
    this.server.addService(serviceDefinition('ProducerService'), {
      Produce: this.unary('ProducerService', 'Produce', (r) => producer.produce(r), CALL_CHECKS.Produce),
      ProduceBatch: this.unary('ProducerService', 'ProduceBatch', (r) => producer.produceBatch(r), CALL_CHECKS.ProduceBatch),
    } satisfies UntypedServiceImplementation);
    this.server.addService(serviceDefinition('ConsumerService'), {
      Consume: this.unary('ConsumerService', 'Consume', (r, signal) => consumer.consume(r, signal), CALL_CHECKS.Consume),
      Subscribe: (call: ServerWritableStream<SubscribeRequestMsg, SubscribeResponseMsg>) => this.subscribe(consumer, call),
      CommitOffset: this.unary('ConsumerService', 'CommitOffset', (r) => consumer.commitOffset(r), CALL_CHECKS.CommitOffset),
      GetOffset: this.unary('ConsumerService', 'GetOffset', (r) => consumer.getOffset(r), CALL_CHECKS.GetOffset),
      JoinGroup: this.unary('ConsumerService', 'JoinGroup', (r, signal, peer) => membership.join(r, signal, peer), CALL_CHECKS.JoinGroup),
      GroupHeartbeat: this.unary('ConsumerService', 'GroupHeartbeat', (r) => membership.heartbeat(r), CALL_CHECKS.GroupHeartbeat),
      LeaveGroup: this.unary('ConsumerService', 'LeaveGroup', (r) => membership.leave(r), CALL_CHECKS.LeaveGroup),
    } satisfies UntypedServiceImplementation);
    this.server.addService(serviceDefinition('AdminService'), {
      CreateTopic: this.unary('AdminService', 'CreateTopic', (r) => admin.createTopic(r), CALL_CHECKS.CreateTopic),
      // as Metadata and ListGroups do: only what the caller may describe
      ListTopics: this.unary('AdminService', 'ListTopics', async (_r, _s, _p, access) => {
        const all = await admin.listTopics();
        return { topics: all.topics.filter((t) => access.allows(AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) };
      }),
      DescribeTopic: this.unary('AdminService', 'DescribeTopic', (r) => admin.describeTopic(r), CALL_CHECKS.DescribeTopic),
      DeleteTopic: this.unary('AdminService', 'DeleteTopic', (r) => admin.deleteTopic(r), CALL_CHECKS.DeleteTopic),
      ListGroups: this.unary('AdminService', 'ListGroups', async (_r, _s, _p, access) => {
        const all = await admin.listGroups();
        return { groups: all.groups.filter((g) => access.allows(AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId)) };
      }),
      DescribeGroup: this.unary('AdminService', 'DescribeGroup', (r) => admin.describeGroup(r), CALL_CHECKS.DescribeGroup),
      ResetGroupOffsets: this.unary('AdminService', 'ResetGroupOffsets', (r) => admin.resetGroupOffsets(r), CALL_CHECKS.ResetGroupOffsets),
      ListAgents: this.unary('AdminService', 'ListAgents', () => admin.listAgents(), CALL_CHECKS.ListAgents),
      // open, as /health is: probes carry no credentials
      Health: this.unary('AdminService', 'Health', async () => admin.health(), 'open'),
    } satisfies UntypedServiceImplementation);
  }

  /** Binds (port 0 picks a free one) and returns the port. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const bound = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, this.credentials(), (err, p) => (err ? reject(err) : resolve(p)));
    });
    this.port = bound;
    this.listening = true;
    return bound;
  }

  get boundPort(): number {
    return this.port;
  }

  /** True while the server is bound and not closing. */
  get serving(): boolean {
    return this.listening && this.closing === undefined;
  }

  /**
   * Ends Subscribe streams (UNAVAILABLE: the agent is stopping) and long-polls (they answer
   * what they have), lets unary calls finish for a grace period, then closes every
   * connection. Call before the log closes.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const c of this.calls) c.abort(new GrpcError(status.UNAVAILABLE, 'the agent is shutting down'));
      if (!this.listening) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.server.forceShutdown();
          resolve();
        }, CLOSE_GRACE_MS);
        this.server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    })();
    return this.closing;
  }

  private credentials(): ServerCredentials {
    const tls = this.options.tls;
    return tls ? reloadingServerCredentials(tls, tls.config.clientAuth) : ServerCredentials.createInsecure();
  }

  /** The call's requester and its checks (ANONYMOUS without an authenticator). */
  private async access(call: { metadata: Metadata; getPeer(): string; getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } }, open = false): Promise<CallAccess> {
    const peer = call.getPeer();
    const metadataValue = call.metadata.get('authorization')[0];
    const authenticator = this.options.authenticator;
    const client = peer.replace(/^ipv[46]:/, '');
    if (!authenticator || open) return new CallAccess(this.services, { principal: ANONYMOUS, host: hostOfAddress(client), client });
    // grpc-js shows only certificates that verified
    const raw = call.getAuthContext().sslPeerCertificate?.raw;
    const certificate = raw ? { subject: new X509Certificate(raw).subject, verified: true } : undefined;
    return new CallAccess(this.services, await authenticateCall(authenticator, typeof metadataValue === 'string' ? metadataValue : undefined, peer, certificate));
  }

  private fail(err: unknown): Partial<ServiceError> {
    return toServiceError(err, (e) => this.services.logger.warn({ err: e }, 'gRPC call failed unexpectedly'));
  }

  private unary<Req, Res>(service: ServiceName, method: string, impl: (request: Req, signal: AbortSignal, peer: string, access: CallAccess) => Promise<Res>, check?: ((access: CallAccess, request: Req) => void) | 'open') {
    const metrics = this.services.metrics;
    const labels = { service: `${PROTO_PACKAGE}.${service}`, method };
    const duration = metrics.grpcRequestDuration.labels(labels);
    const ok = metrics.grpcRequests.labels({ ...labels, code: 'OK' });
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const started = performance.now();
      const abort = new AbortController();
      this.calls.add(abort);
      call.once('cancelled', () => abort.abort());
      this.access(call, check === 'open')
        .then((access) => {
          if (typeof check === 'function') check(access, call.request);
          return impl(call.request, abort.signal, call.getPeer(), access);
        })
        .then(
          (res) => {
            ok.inc();
            callback(null, res);
          },
          (err: unknown) => {
            const failure = this.fail(err);
            metrics.grpcRequests.inc({ ...labels, code: statusName(failure.code) });
            callback(failure);
          },
        )
        .finally(() => {
          duration.observe((performance.now() - started) / 1000);
          this.calls.delete(abort);
        });
    };
  }

  private subscribe(consumer: ConsumerService, call: ServerWritableStream<SubscribeRequestMsg, SubscribeResponseMsg>): void {
    const metrics = this.services.metrics;
    const labels = { service: `${PROTO_PACKAGE}.ConsumerService`, method: 'Subscribe' };
    metrics.grpcActiveStreams.inc(labels);
    let code: status = status.OK;
    const abort = new AbortController();
    this.calls.add(abort);
    if (this.closing) abort.abort(new GrpcError(status.UNAVAILABLE, 'the agent is shutting down'));
    call.once('cancelled', () => abort.abort());
    const sink: SubscribeSink = {
      write: (message) => call.write(message),
      drained: (signal) =>
        new Promise<void>((resolve) => {
          const done = () => {
            call.off('drain', done);
            signal.removeEventListener('abort', done);
            resolve();
          };
          call.on('drain', done);
          signal.addEventListener('abort', done);
        }),
    };
    this.access(call)
      .then((access) => {
        CALL_CHECKS.Subscribe(access, call.request);
        return consumer.subscribe(call.request, sink, abort.signal);
      })
      .then(
        () => {
          // a stream ends only when aborted: by the client (nothing to send) or by close()
          const reason: unknown = abort.signal.reason;
          if (call.cancelled) code = status.CANCELLED;
          else if (reason instanceof GrpcError) {
            const failure = this.fail(reason);
            code = failure.code ?? status.UNKNOWN;
            call.emit('error', failure);
          }
        },
        (err: unknown) => {
          const failure = this.fail(err);
          code = call.cancelled ? status.CANCELLED : (failure.code ?? status.UNKNOWN);
          if (!call.cancelled) call.emit('error', failure);
        },
      )
      .finally(() => {
        this.calls.delete(abort);
        metrics.grpcActiveStreams.dec(labels);
        metrics.grpcRequests.inc({ ...labels, code: statusName(code) });
      });
  }
}
