import { Server, ServerCredentials, status, type ServerUnaryCall, type ServerWritableStream, type ServiceError, type UntypedServiceImplementation, type sendUnaryData } from '@grpc/grpc-js';
import type { AgentCore } from '../agent/agent-core.js';
import { AdminService } from './admin-service.js';
import { ConsumerService, type SubscribeSink } from './consumer-service.js';
import { GrpcError, toServiceError } from './grpc-status.js';
import type { SubscribeRequestMsg, SubscribeResponseMsg } from './messages.js';
import { serviceDefinition } from './proto-definition.js';
import { ProducerService } from './producer-service.js';

export interface GrpcServerOptions {
  /** The HTTP port the agent actually listens on, for ListAgents. */
  readonly httpPort?: () => number;
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
    options: GrpcServerOptions = {},
  ) {
    this.server = new Server({
      'grpc.max_receive_message_length': services.config.socketRequestMaxBytes,
    });
    const producer = new ProducerService(services);
    const consumer = new ConsumerService(services);
    const admin = new AdminService(services, {
      ports: () => ({ grpc: this.port, http: options.httpPort?.() ?? services.config.httpPort }),
      startedAtMs: Date.now(),
    });
    this.server.addService(serviceDefinition('ProducerService'), {
      Produce: this.unary((r) => producer.produce(r)),
      ProduceBatch: this.unary((r) => producer.produceBatch(r)),
    } satisfies UntypedServiceImplementation);
    this.server.addService(serviceDefinition('ConsumerService'), {
      Consume: this.unary((r, signal) => consumer.consume(r, signal)),
      Subscribe: (call: ServerWritableStream<SubscribeRequestMsg, SubscribeResponseMsg>) => this.subscribe(consumer, call),
      CommitOffset: this.unary((r) => consumer.commitOffset(r)),
      GetOffset: this.unary((r) => consumer.getOffset(r)),
    } satisfies UntypedServiceImplementation);
    this.server.addService(serviceDefinition('AdminService'), {
      CreateTopic: this.unary((r) => admin.createTopic(r)),
      ListTopics: this.unary(() => admin.listTopics()),
      DescribeTopic: this.unary((r) => admin.describeTopic(r)),
      DeleteTopic: this.unary((r) => admin.deleteTopic(r)),
      ListGroups: this.unary(() => admin.listGroups()),
      DescribeGroup: this.unary((r) => admin.describeGroup(r)),
      ResetGroupOffsets: this.unary((r) => admin.resetGroupOffsets(r)),
      ListAgents: this.unary(() => admin.listAgents()),
      Health: this.unary(async () => admin.health()),
    } satisfies UntypedServiceImplementation);
  }

  /** Binds (port 0 picks a free one) and returns the port. */
  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    const bound = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
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

  private fail(err: unknown): Partial<ServiceError> {
    return toServiceError(err, (e) => this.services.logger.warn({ err: e }, 'gRPC call failed unexpectedly'));
  }

  private unary<Req, Res>(impl: (request: Req, signal: AbortSignal) => Promise<Res>) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const abort = new AbortController();
      this.calls.add(abort);
      call.once('cancelled', () => abort.abort());
      impl(call.request, abort.signal)
        .then(
          (res) => callback(null, res),
          (err: unknown) => callback(this.fail(err)),
        )
        .finally(() => this.calls.delete(abort));
    };
  }

  private subscribe(consumer: ConsumerService, call: ServerWritableStream<SubscribeRequestMsg, SubscribeResponseMsg>): void {
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
    consumer
      .subscribe(call.request, sink, abort.signal)
      .then(
        () => {
          // a stream ends only when aborted: by the client (nothing to send) or by close()
          const reason: unknown = abort.signal.reason;
          if (reason instanceof GrpcError && !call.cancelled) call.emit('error', this.fail(reason));
        },
        (err: unknown) => {
          if (!call.cancelled) call.emit('error', this.fail(err));
        },
      )
      .finally(() => this.calls.delete(abort));
  }
}
