export { VERSION } from './version.js';
export { startAgent, type RunningAgent } from './server/start-agent.js';
export { defaultBrokerConfig, type BrokerConfig } from './agent/config/broker-config.js';
export * from './grpc/client/index.js';
