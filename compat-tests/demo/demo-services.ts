// The production demo's services (examples/production-demo) as real processes, started the
// way run-demo.sh starts them (`node --import tsx <service>/main.ts` with PORT, STREAMHOUSE_ADDR,
// KAFKA_BROKERS), on free ports; and the HTTP calls the tests and the benchmark make to them.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, REPO } from '../../test-kit/broker-process.js';
import { waitUntil } from '../../test-kit/wait-until.js';
import type { AnalyticsStats } from '../../examples/production-demo/src/analytics-service/analytics-state.js';

export const DEMO_DIR = join(REPO, 'examples/production-demo');

export type ServiceName = 'order-service' | 'analytics-service' | 'inventory-service';

export interface DemoService {
  readonly name: ServiceName;
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  output(): string;
  /** SIGTERM (the service's own shutdown) and wait for the exit. */
  stop(): Promise<void>;
  /** A signal (default SIGKILL), then wait for the process to be gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface ServiceOptions {
  /** The broker's gRPC address, http://host:port. */
  readonly grpcAddress: string;
  /** The broker's Kafka listener(s), host:port[,host:port]. */
  readonly kafkaBrokers: string;
  readonly env?: Record<string, string>;
  /** Node flags before `--import tsx`, e.g. ['--cpu-prof'] (benchmarks). */
  readonly nodeArgs?: readonly string[];
  /** How long to wait for GET /health (default 40 s: tsx compiles the service on start). */
  readonly readyTimeoutMs?: number;
}

export async function startService(name: ServiceName, opts: ServiceOptions): Promise<DemoService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', join(DEMO_DIR, 'src', name, 'main.ts')], {
    cwd: REPO,
    env: { ...process.env, PORT: String(port), STREAMHOUSE_ADDR: opts.grpcAddress, KAFKA_BROKERS: opts.kafkaBrokers, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const service: DemoService = {
    name,
    url,
    port,
    process: child,
    output: () => out,
    async stop() {
      if (!gone()) child.kill('SIGTERM');
      await exited;
    },
    async kill(signal = 'SIGKILL') {
      if (!gone()) child.kill(signal);
      await exited;
    },
  };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 40_000);
  for (;;) {
    if (gone()) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) during start:\n${out}`);
    const res = await fetch(`${url}/health`).catch(() => undefined);
    if (res?.status === 200) return service;
    if (Date.now() > deadline) {
      await service.kill();
      throw new Error(`${name} did not answer ${url}/health in time:\n${out}`);
    }
    await sleep(100);
  }
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function postJson<T>(url: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}

/** What POST /orders answers (and each entry of POST /orders/batch's `orders`). */
export interface OrderAnswer {
  readonly order_id: string;
  readonly status: 'accepted' | 'failed';
  readonly total_amount: number;
  readonly created_at: string;
  readonly error?: string;
}

/** The analytics service's GET /stats: the service's own type of it. */
export type AnalyticsStatsBody = AnalyticsStats;

export interface InventoryBody {
  readonly items: ReadonlyArray<{ sku: string; name: string; initial: number; available: number; reserved: number; low_stock_threshold: number; status: string }>;
}

export interface InventoryStatsBody {
  readonly orders_processed: number;
  readonly invalid_records: number;
  readonly updates_produced: number;
  readonly events: Record<'reserved' | 'rejected' | 'low_stock' | 'out_of_stock', number>;
}

/** The test kit's wait, with the demo tests' default of 30 s. */
export const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> => waitUntil(what, check, timeoutMs);

/** Cents from a dollar amount the services print with two decimals. */
export const cents = (dollars: number): number => Math.round(dollars * 100);
