// /ready says whether an agent can serve (issue #12, fix 3): on a 2-agent cluster whose
// agent-0 reaches PostgreSQL through a gate, shutting the gate makes agent-0's /ready answer
// 503 naming the metadata store while agent-1 stays ready; opening it makes agent-0 ready again.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { startPostgres, type PostgresProcess } from '../../test-kit/postgres-process.js';
import { startS3rver, type S3rverHandle } from '../../test-kit/s3rver-process.js';
import { HEARTBEAT_MS, LEASE_TTL_MS, sleep } from './support.js';
import { TcpGate } from './tcp-gate.js';

interface ReadyAnswer {
  status: number;
  body: { ready?: unknown; notReady?: unknown; checks?: unknown };
}

let pgServer: PostgresProcess;
let s3: S3rverHandle;
let gate: TcpGate;
const agents: BrokerProcess[] = [];

async function startAgent(index: number, metadataUrl: string): Promise<BrokerProcess> {
  const agent = await startBrokerProcess({
    args: [
      '--metadata', metadataUrl,
      '--storage', `s3://${s3.bucket}/ready`,
      '--agent-id', `agent-${index}`,
      '--node-id', String(index + 1),
      '--heartbeat-interval-ms', String(HEARTBEAT_MS),
      '--lease-ttl-ms', String(LEASE_TTL_MS),
    ],
    env: s3.env,
  });
  agents.push(agent);
  return agent;
}

beforeAll(async () => {
  pgServer = await startPostgres();
  s3 = await startS3rver();
  const direct = await pgServer.createDatabase('ready');
  gate = await TcpGate.start('127.0.0.1', pgServer.port);
  const gated = direct.replace(`:${pgServer.port}/`, `:${gate.port}/`);
  expect(gated).not.toBe(direct);
  await startAgent(0, gated);
  await startAgent(1, direct);
}, 120_000);

afterAll(async () => {
  for (const a of agents) await a.cleanup().catch(() => {});
  await gate?.stop();
  await s3?.stop();
  await pgServer?.stop();
});

async function ready(agent: BrokerProcess): Promise<ReadyAnswer> {
  const res = await fetch(`http://127.0.0.1:${agent.httpPort}/ready`);
  return { status: res.status, body: (await res.json()) as ReadyAnswer['body'] };
}

async function waitForStatus(agent: BrokerProcess, status: number, timeoutMs: number): Promise<ReadyAnswer> {
  const until = Date.now() + timeoutMs;
  let last = await ready(agent);
  while (last.status !== status) {
    if (Date.now() > until) throw new Error(`/ready stayed ${last.status} ${JSON.stringify(last.body)} for ${timeoutMs} ms, wanted ${status}`);
    await sleep(200);
    last = await ready(agent);
  }
  return last;
}

describe('/ready while the metadata store is unreachable', () => {
  it('is 503 naming the metadata store while PostgreSQL is cut off, and 200 again once it is back', async () => {
    const [a, b] = agents as [BrokerProcess, BrokerProcess];
    const before = await ready(a);
    expect(before.status).toBe(200);
    expect(before.body.ready).toBe(true);

    gate.shut();
    const down = await waitForStatus(a, 503, 15_000);
    expect(down.body.ready).toBe(false);
    expect(down.body.notReady).toEqual(expect.arrayContaining(['metadata']));
    // the agent that still reaches the store keeps serving
    expect((await ready(b)).status).toBe(200);
    // still down a little later (not a one-off failed probe)
    await sleep(1000);
    expect((await ready(a)).status).toBe(503);

    gate.open();
    const up = await waitForStatus(a, 200, 30_000);
    expect(up.body.ready).toBe(true);
    expect(up.body.notReady).toEqual([]);
    expect((await ready(b)).status).toBe(200);
  });
});
