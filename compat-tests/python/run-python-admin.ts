import { join } from 'node:path';
import { PYTHON, runCommand } from '../../test-kit/run-command.js';

export type AdminScript = 'confluent-admin.py' | 'kafka-python-admin.py';

export interface AdminOp {
  op: string;
  [arg: string]: unknown;
}

export interface PythonKafkaError {
  code: number;
  name: string;
  message: string | null;
}

/** Per-topic outcome of create/delete/create_partitions. */
export type TopicOutcomes = Record<string, { error: PythonKafkaError | null }>;

export interface ConfigEntryJson {
  value: string | null;
  source: number;
  read_only: boolean;
  is_sensitive: boolean;
  is_default?: boolean;
}

export interface ConfigResourceJson {
  type: 'topic' | 'broker';
  name: string;
  configs?: Record<string, ConfigEntryJson>;
  error?: PythonKafkaError;
}

/**
 * Runs one of the Python admin scripts (a fresh client process each time) and returns the
 * result of each op in order. Fails loudly with the script's stderr if it crashed.
 */
export async function runPythonAdmin(script: AdminScript, bootstrap: string, ops: AdminOp[]): Promise<unknown[]> {
  const res = await runCommand(PYTHON, [join(import.meta.dirname, script), JSON.stringify({ bootstrap, ops })], { timeoutMs: 60000 });
  if (res.code !== 0) throw new Error(`${script} exited with ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
  const parsed = JSON.parse(res.stdout) as { results: unknown[] };
  return parsed.results;
}
