export { AdminClient } from './admin-client.js';
export type { AgentDescription, GroupDescription, GroupListing, GroupOffset, HealthStatus, PartitionDescription, ResetTarget, TopicDescription, TopicListing } from './admin-client.js';
export { Producer, type ProducerOptions, type ProducerRecord, type RecordMetadata } from './producer.js';
export { Consumer, type ConsumerOptions, type ConsumerRecord, type TopicPartition } from './consumer.js';
export { Subscription, type SubscriptionOptions } from './subscription.js';
export { StreamHouseError } from './streamhouse-error.js';
export { DEFAULT_ADDRESS, parseAddress, resolveAddress } from './address.js';
export type { ChannelOptions } from './rpc-channel.js';
export type { Bytes } from './bytes.js';
