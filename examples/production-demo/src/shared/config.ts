/** Where the services listen and where the broker is, from the environment (run-demo.sh sets them). */
export interface DemoConfig {
  /** The broker's gRPC API (the typed client): the first of grpcAddresses. */
  readonly grpcAddress: string;
  /** STREAMHOUSE_ADDR, comma-separated: one agent, or several agents of a cluster. */
  readonly grpcAddresses: string[];
  /** The broker's Kafka listener (kafkajs). */
  readonly kafkaBrokers: string[];
  readonly host: string;
  readonly port: number;
}

export function loadConfig(defaultPort: number, env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const port = Number(env.PORT ?? defaultPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  const grpcAddresses = (env.STREAMHOUSE_ADDR ?? 'http://127.0.0.1:50051').split(',').map((a) => a.trim()).filter((a) => a !== '');
  if (grpcAddresses.length === 0) throw new Error('STREAMHOUSE_ADDR names no address');
  return {
    grpcAddress: grpcAddresses[0]!,
    grpcAddresses,
    kafkaBrokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim()).filter((b) => b !== ''),
    host: env.HOST ?? '127.0.0.1',
    port,
  };
}
