import { Command, Option } from 'commander';
import { UsageError } from './cli-errors.js';
import { KafkaAdminClient, type KafkaClientSecurity } from './kafka-admin-client.js';

// The options of the streamctl commands that talk to a Kafka listener (user, acl): where,
// and how to log in; shared so that every such command is configured alike.

export interface KafkaListenerOptions {
  bootstrap: string;
  securityProtocol: string;
  saslMechanism?: string;
  saslUsername?: string;
  saslPassword?: string;
  sslCaLocation?: string;
  sslCertificateLocation?: string;
  sslKeyLocation?: string;
  timeout?: number;
  json?: boolean;
}

/** Adds the listener options to a command group (`user`, `acl`). */
export function addKafkaListenerOptions(command: Command, who: string): Command {
  return command
    .addOption(new Option('--bootstrap <host:port>', 'a Kafka listener of any agent').env('STREAMHOUSE_BOOTSTRAP').default('localhost:9092'))
    .addOption(new Option('--security-protocol <protocol>', 'PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL').default('PLAINTEXT'))
    .option('--sasl-mechanism <mechanism>', 'PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default SCRAM-SHA-512)')
    .option('--sasl-username <name>', who)
    .addOption(new Option('--sasl-password <password>', 'the login password (prefer the environment variable)').env('STREAMCTL_SASL_PASSWORD'))
    .option('--ssl-ca-location <file>', 'PEM CA the broker certificate chains to')
    .option('--ssl-certificate-location <file>', 'PEM client certificate (mutual TLS)')
    .option('--ssl-key-location <file>', 'PEM key of the client certificate');
}

function security(o: KafkaListenerOptions): KafkaClientSecurity {
  const p = o.securityProtocol.toUpperCase();
  if (p !== 'PLAINTEXT' && p !== 'SSL' && p !== 'SASL_PLAINTEXT' && p !== 'SASL_SSL') throw new UsageError(`--security-protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got "${o.securityProtocol}"`);
  return {
    securityProtocol: p,
    ...(o.saslMechanism !== undefined ? { saslMechanism: o.saslMechanism } : {}),
    ...(o.saslUsername !== undefined ? { saslUsername: o.saslUsername } : {}),
    ...(o.saslPassword !== undefined ? { saslPassword: o.saslPassword } : {}),
    ...(o.sslCaLocation !== undefined ? { sslCaLocation: o.sslCaLocation } : {}),
    ...(o.sslCertificateLocation !== undefined ? { sslCertificateLocation: o.sslCertificateLocation } : {}),
    ...(o.sslKeyLocation !== undefined ? { sslKeyLocation: o.sslKeyLocation } : {}),
  };
}

/** Connects with the command's options, runs `fn`, closes. */
export async function withKafkaClient<T>(cmd: Command, fn: (c: KafkaAdminClient, o: KafkaListenerOptions) => Promise<T>): Promise<T> {
  const o = cmd.optsWithGlobals<KafkaListenerOptions>();
  const client = await KafkaAdminClient.connect(o.bootstrap, security(o), o.timeout ?? 10_000);
  try {
    return await fn(client, o);
  } finally {
    client.close();
  }
}
