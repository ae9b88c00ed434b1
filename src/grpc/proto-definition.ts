import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type MethodDefinition, type PackageDefinition, type ServiceDefinition } from '@grpc/proto-loader';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Where streamhouse.proto is. tsc does not copy it into dist/, so the compiled code
 * (dist/grpc) finds it in the source tree next door.
 */
export const PROTO_PATH: string = [join(here, 'streamhouse.proto'), join(here, '../../src/grpc/streamhouse.proto')].find((p) => existsSync(p)) ?? join(here, 'streamhouse.proto');

export const PROTO_PACKAGE = 'streamhouse.v1';

/**
 * How messages look in JavaScript, on both ends: camelCase fields, int64 as decimal strings
 * (offsets must not lose precision), enums by name, bytes as Buffer, defaults filled in, and
 * a oneof's member present only when it was set.
 */
export const LOADER_OPTIONS = { keepCase: false, longs: String, enums: String, bytes: Buffer, defaults: true, oneofs: true } as const;

let loaded: PackageDefinition | undefined;

export function packageDefinition(): PackageDefinition {
  loaded ??= loadSync(PROTO_PATH, { ...LOADER_OPTIONS });
  return loaded;
}

export type ServiceName = 'ProducerService' | 'ConsumerService' | 'AdminService';

export function serviceDefinition(name: ServiceName): ServiceDefinition {
  const def = packageDefinition()[`${PROTO_PACKAGE}.${name}`];
  if (!def || 'format' in def) throw new Error(`${name} missing from ${PROTO_PATH}`);
  return def as ServiceDefinition;
}

export function methodDefinition(service: ServiceName, method: string): MethodDefinition<object, object> {
  const m = serviceDefinition(service)[method];
  if (!m) throw new Error(`${service}.${method} missing from ${PROTO_PATH}`);
  return m as MethodDefinition<object, object>;
}
