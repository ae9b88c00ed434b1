import { join } from 'node:path';
import { PYTHON, runCommand } from '../../test-kit/run-command.js';
import { toWire, type Codec, type PlannedRecord, type ReadRecord } from './matrix-layout.js';

const SCRIPTS = join(import.meta.dirname, '../python');

export type PythonScript = 'confluent-produce-consume.py' | 'kafka-python-produce-consume.py';

export interface PythonRun {
  results: unknown[];
  /** librdkafka log lines and error callbacks (confluent-kafka only). */
  logs: string[];
  errors: Array<{ code: number; name: string; message: string }>;
}

/** Runs one of the produce/consume scripts with the ops on standard input; fails loudly if it crashed. */
export async function runPythonOps(script: PythonScript, bootstrap: string, ops: object[], timeoutMs = 90000): Promise<PythonRun> {
  const res = await runCommand(PYTHON, [join(SCRIPTS, script)], { input: JSON.stringify({ bootstrap, ops }), timeoutMs });
  if (res.code !== 0) throw new Error(`${script} exited with ${res.code}\nstdout: ${res.stdout.slice(0, 4000)}\nstderr: ${res.stderr.slice(-4000)}`);
  const parsed = JSON.parse(res.stdout) as Partial<PythonRun> & { results: unknown[] };
  return { results: parsed.results, logs: parsed.logs ?? [], errors: parsed.errors ?? [] };
}

export interface DeliveryReport {
  partition: number;
  offset: number;
  key?: string | null;
  error?: { code: number; name: string; message: string } | null;
}

/** One producer per codec (codec is a producer-level setting in both Python clients). */
export async function pythonProduce(script: PythonScript, bootstrap: string, topic: string, batches: Array<{ codec: Codec; records: PlannedRecord[] }>): Promise<DeliveryReport[][]> {
  const run = await runPythonOps(
    script,
    bootstrap,
    batches.map(({ codec, records }) => ({ op: 'produce', topic, codec, records: records.map(toWire) })),
  );
  return run.results.map((r) => (r as { reports: DeliveryReport[] }).reports);
}

export interface PythonReadRecord extends ReadRecord {
  timestampType: number;
}

export async function pythonRead(script: PythonScript, bootstrap: string, topics: Array<{ name: string; partitions: number }>): Promise<{ records: PythonReadRecord[]; run: PythonRun }> {
  const run = await runPythonOps(script, bootstrap, [{ op: 'read', topics }]);
  return { records: (run.results[0] as { records: PythonReadRecord[] }).records, run };
}
