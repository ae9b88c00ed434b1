import { Client, Metadata, credentials, status, type CallOptions, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { RPC_SERVICE, type RequestOf, type ResponseOf, type UnaryRpcName, type SubscribeRequestMsg, type SubscribeResponseMsg } from '../messages.js';
import { methodDefinition } from '../proto-definition.js';
import { parseAddress, resolveAddress } from './address.js';
import { StreamHouseError } from './streamhouse-error.js';

export interface ChannelOptions {
  /** http://host:port (default: STREAMHOUSE_ADDR, else http://localhost:50051). */
  readonly address?: string;
  /** Deadline of each call unless the call sets its own (default 30000 ms). */
  readonly timeoutMs?: number;
  /** With https:// addresses: PEM CA certificates the agent's certificate chains to (default: the system's). */
  readonly caCertificates?: Buffer | string;
  /** With https:// addresses: a client certificate and its key (PEM), for agents with ssl.client.auth=required. */
  readonly clientCertificate?: { readonly cert: Buffer | string; readonly key: Buffer | string };
  /** A StreamHouse (SCRAM) user, sent as Basic credentials with every call (use https://). */
  readonly credentials?: { readonly username: string; readonly password: string };
}

export interface CallSettings {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Large enough for a full Consume answer (64 MiB of records plus framing). */
const MAX_RECEIVE_BYTES = 80 * 1024 * 1024;

/** One HTTP/2 connection to an agent, shared by every service; typed unary calls and Subscribe streams. */
export class RpcChannel {
  readonly address: string;
  private readonly client: Client;
  private readonly timeoutMs: number;
  private readonly authorization: string | undefined;

  constructor(options: ChannelOptions = {}) {
    this.address = resolveAddress(options.address);
    const parsed = parseAddress(this.address);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    const ca = options.caCertificates === undefined ? null : Buffer.from(options.caCertificates);
    const clientKey = options.clientCertificate ? Buffer.from(options.clientCertificate.key) : null;
    const clientCert = options.clientCertificate ? Buffer.from(options.clientCertificate.cert) : null;
    this.authorization = options.credentials ? `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`, 'utf8').toString('base64')}` : undefined;
    this.client = new Client(parsed.target, parsed.secure ? credentials.createSsl(ca, clientKey, clientCert) : credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
      'grpc.max_send_message_length': MAX_RECEIVE_BYTES,
    });
  }

  call<M extends UnaryRpcName>(method: M, request: Partial<RequestOf<M>>, settings: CallSettings = {}): Promise<ResponseOf<M>> {
    const def = methodDefinition(RPC_SERVICE[method], method);
    return new Promise<ResponseOf<M>>((resolve, reject) => {
      if (settings.signal?.aborted) {
        reject(new StreamHouseError(status.CANCELLED, 'call cancelled before it started'));
        return;
      }
      const options: CallOptions = { deadline: Date.now() + (settings.timeoutMs ?? this.timeoutMs) };
      const call = this.client.makeUnaryRequest(
        def.path,
        (req: Partial<RequestOf<M>>) => def.requestSerialize(req),
        (buf: Buffer) => def.responseDeserialize(buf) as ResponseOf<M>,
        request,
        this.metadata(),
        options,
        (err: ServiceError | null, res?: ResponseOf<M>) => {
          settings.signal?.removeEventListener('abort', cancel);
          if (err) reject(StreamHouseError.from(err));
          else resolve(res!);
        },
      );
      const cancel = () => call.cancel();
      settings.signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  /** A Subscribe stream (no deadline); cancel it with `stream.cancel()`. */
  subscribe(request: Partial<SubscribeRequestMsg>): ClientReadableStream<SubscribeResponseMsg> {
    const def = methodDefinition('ConsumerService', 'Subscribe');
    return this.client.makeServerStreamRequest(
      def.path,
      (req: Partial<SubscribeRequestMsg>) => def.requestSerialize(req),
      (buf: Buffer) => def.responseDeserialize(buf) as SubscribeResponseMsg,
      request,
      this.metadata(),
      {},
    );
  }

  private metadata(): Metadata {
    const m = new Metadata();
    if (this.authorization !== undefined) m.set('authorization', this.authorization);
    return m;
  }

  close(): void {
    this.client.close();
  }
}
