// The one place the demo imports StreamHouse's typed gRPC client from: the repository's own
// source (run with tsx). An application outside this repository imports the package instead.
export * from '../../../../src/grpc/client/index.js';
