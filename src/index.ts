export { VERSION } from './version.js';
export { startBroker, type RunningBroker } from './broker/broker.js';
export { defaultBrokerConfig, type BrokerConfig } from './broker/config/broker-config.js';
export * from './grpc/client/index.js';
