// The load-shape flags of the benches that compare produce throughput between two setups
// (metrics-cost, acl-cost, security-throughput), and the ProduceRunOptions they make: one
// definition, so the comparisons run the same load and document it the same way.

import { intFlag, numFlag, type FlagSpec } from './args.js';
import type { ProduceRunOptions } from './produce-runner.js';

type LoadFlag = 'partitions' | 'record-size' | 'records-per-batch' | 'connections' | 'inflight' | 'phase-s' | 'warmup-s';

/** The flags with these defaults unless a bench gives its own. */
export function produceLoadFlags(defaults: Partial<Record<LoadFlag, string>> = {}): Record<LoadFlag, FlagSpec[string]> {
  return {
    'phase-s': { default: defaults['phase-s'] ?? '5', help: 'measured seconds per phase' },
    'warmup-s': { default: defaults['warmup-s'] ?? '1', help: 'seconds sent before each phase is measured' },
    partitions: { default: defaults.partitions ?? '8', help: 'partitions of the topic' },
    'record-size': { default: defaults['record-size'] ?? '100', help: 'record value bytes' },
    'records-per-batch': { default: defaults['records-per-batch'] ?? '1000', help: 'records per batch' },
    connections: { default: defaults.connections ?? '4', help: 'TCP connections of the load generator' },
    inflight: { default: defaults.inflight ?? '8', help: 'requests in flight per connection' },
  };
}

/** Unthrottled acks=1 produce to every partition in each request, shaped by the flags. */
export function produceLoadOptions(flags: Record<LoadFlag, string>, target: { host: string; port: number; topic: string }, rateMbS = 0): ProduceRunOptions {
  const partitions = intFlag(flags.partitions, 'partitions', 1);
  return {
    ...target,
    partitions,
    partitionsPerRequest: partitions,
    connections: intFlag(flags.connections, 'connections', 1),
    inflight: intFlag(flags.inflight, 'inflight', 1),
    recordSize: intFlag(flags['record-size'], 'record-size', 0),
    recordsPerBatch: intFlag(flags['records-per-batch'], 'records-per-batch', 1),
    acks: 1,
    durationS: numFlag(flags['phase-s'], 'phase-s'),
    warmupS: numFlag(flags['warmup-s'], 'warmup-s'),
    rateMbS,
  };
}
