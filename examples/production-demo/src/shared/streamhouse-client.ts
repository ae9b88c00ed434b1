// The one place the demo imports StreamHouse's typed gRPC client from: the repository's own
// source (run with tsx). An application outside this repository imports the package instead.
export * from '../../../../src/grpc/client/index.js';
// Kafka's default partitioner (murmur2 of the key), for picking a partition before the send.
export { partitionForKey } from '../../../../src/protocol/murmur2.js';
