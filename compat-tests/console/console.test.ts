// The web console in Chromium against real broker processes: what the UI shows and does is
// checked against what kcat and kafkajs see over the Kafka protocol. Screenshots of each
// page go to test-artifacts/console/.

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBrokerProcess, type BrokerProcess } from '../../test-kit/broker-process.js';
import { runCommand } from '../../test-kit/run-command.js';
import { createTopic, startCluster, waitForLeaders, type Cluster } from '../cluster/support.js';
import { launchBrowser, numbersOf, openConsole, requireBuiltConsole, type ConsolePage } from './browser.js';

const KCAT = '/usr/bin/kcat';
const XSS = '<script>alert(1)</script>';
const XSS_IMG = '<img src=x onerror="alert(2)">';

function uniqueName(label: string): string {
  return `console-${label}-${randomUUID().slice(0, 8)}`;
}

async function kcat(bootstrap: string, args: string[], input?: string) {
  const res = await runCommand(KCAT, ['-b', bootstrap, '-m', '15', ...args], { timeoutMs: 30_000, ...(input !== undefined ? { input } : {}) });
  expect(res.code, `kcat ${args.join(' ')} failed:\n${res.stderr}`).toBe(0);
  return res;
}

describe('web console against a broker process', () => {
  let broker: BrokerProcess;
  let browser: Browser;
  let ui: ConsolePage;
  let kafka: Kafka;
  let admin: Admin;
  const topic = uniqueName('ui-made');

  beforeAll(async () => {
    requireBuiltConsole();
    broker = await startBrokerProcess();
    browser = await launchBrowser();
    ui = await openConsole(browser, broker.httpPort);
    kafka = new Kafka({ clientId: 'console-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect().catch(() => {});
    await ui?.close().catch(() => {});
    await browser?.close().catch(() => {});
    await broker?.cleanup();
  });

  it('serves the console at / from the package, with no request leaving the broker', async () => {
    const outside: string[] = [];
    ui.page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.protocol.startsWith('http') && url.port !== String(broker.httpPort)) outside.push(r.url());
    });
    await ui.goto('#/');
    await expect.poll(() => ui.page.locator('[data-testid=stat-agents] .stat-value').textContent()).toBe('1');
    await ui.page.locator('[data-testid=chart-records] canvas').waitFor();
    expect(outside).toEqual([]);
  });

  it('creates a topic from the Topics page, and kcat -L lists it with its partitions', async () => {
    const { page } = ui;
    await ui.goto('#/topics');
    await page.getByRole('button', { name: 'Create topic' }).click();
    const form = page.locator('[data-testid=create-topic]');
    await form.locator('input[name=name]').fill(topic);
    await form.locator('input[name=partitions]').fill('3');
    await form.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(`**/#/topics/${topic}`);
    await expect.poll(() => page.locator('[data-testid=partitions-table] tbody tr').count()).toBe(3);

    const listing = JSON.parse((await kcat(broker.bootstrap, ['-J', '-L', '-t', topic])).stdout) as { topics: Array<{ topic: string; error?: string; partitions: Array<{ partition: number; leader: number }> }> };
    const t = listing.topics.find((x) => x.topic === topic);
    expect(t?.error).toBeUndefined();
    expect(t?.partitions.map((p) => p.partition).sort()).toEqual([0, 1, 2]);
    await ui.shot('topic');

    await ui.goto('#/topics');
    await page.locator('input[type=search]').fill(topic.slice(0, 20));
    await expect(page.locator(`[data-testid=topics-table] tr[data-topic="${topic}"]`).count()).resolves.toBe(1);
    await ui.shot('topics');
  });

  it('shows a record produced by kcat (key, value, header) in the message browser, JSON pretty-printed, binary as hex', async () => {
    const { page } = ui;
    await kcat(broker.bootstrap, ['-P', '-t', topic, '-p', '1', '-k', 'console-key', '-H', 'trace-id=abc123'], 'hello from kcat\n');
    await kcat(broker.bootstrap, ['-P', '-t', topic, '-p', '1', '-k', 'order-42'], '{"order":42,"items":[1,2],"id":12345678901234567890}\n');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ partition: 1, key: 'bin', value: Buffer.from([0, 1, 2, 0xff, 0xfe, 0x41]) }] });
    await producer.disconnect();

    await ui.goto(`#/topics/${topic}/messages`);
    await page.selectOption('select[name=partition]', '1');
    await page.getByRole('button', { name: 'Fetch' }).click();
    const rows = page.locator('[data-testid=messages] tr.record-row');
    await expect.poll(() => rows.count()).toBe(3);
    // newest first
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-offset')))).toEqual(['2', '1', '0']);

    const textRow = page.locator('tr.record-row[data-offset="0"]');
    await expect.poll(() => textRow.textContent()).toContain('hello from kcat');
    await textRow.click();
    const detail = page.locator('tr.record-detail[data-offset="0"]');
    await detail.waitFor();
    expect(await detail.textContent()).toContain('console-key');
    const header = detail.locator('.headers-table tr');
    expect(await header.locator('td').allTextContents()).toEqual(['trace-id', 'abc123']);

    await page.locator('tr.record-row[data-offset="1"]').click();
    const json = page.locator('tr.record-detail[data-offset="1"] pre[data-kind=json]');
    // re-indented from the text as written: the 64-bit id keeps all its digits
    expect(await json.textContent()).toBe('{\n  "order": 42,\n  "items": [\n    1,\n    2\n  ],\n  "id": 12345678901234567890\n}');

    await page.locator('tr.record-row[data-offset="2"]').click();
    const hex = page.locator('tr.record-detail[data-offset="2"] pre[data-kind=binary]');
    expect(await hex.textContent()).toContain('00 01 02 ff fe 41');
    await ui.shot('messages');
  });

  it('produces a record from the Produce form, and kcat reads it back with key and header', async () => {
    const { page } = ui;
    await ui.goto(`#/topics/${topic}/produce`);
    await page.selectOption('select[name=partition]', '2');
    await page.locator('input[name=key]').fill('ui-key');
    await page.locator('textarea[name=value]').fill('from the console');
    await page.getByRole('button', { name: '+ Add header' }).click();
    await page.locator('input[name=header_key_0]').fill('source');
    await page.locator('input[name=header_value_0]').fill('web');
    await page.getByRole('button', { name: 'Produce' }).click();
    await expect.poll(() => page.locator('[data-testid=produce-result]').textContent()).toBe('Produced to partition 2 at offset 0');
    await ui.shot('produce');

    const res = await kcat(broker.bootstrap, ['-C', '-t', topic, '-p', '2', '-o', '0', '-c', '1', '-e', '-f', '%k|%s|%h\n']);
    expect(res.stdout.trim()).toBe('ui-key|from the console|source=web');
  });

  it('renders a record whose key, value and header are markup as text: nothing runs, no element is injected', async () => {
    const { page } = ui;
    const xssTopic = uniqueName('xss');
    await kcat(broker.bootstrap, ['-P', '-t', xssTopic, '-p', '0', '-k', XSS, '-H', `x=${XSS_IMG}`], `${XSS}\n`);
    await kcat(broker.bootstrap, ['-P', '-t', xssTopic, '-p', '0'], `${XSS_IMG}\n`);
    const scriptsBefore = 1; // index.html's app.js

    await ui.goto(`#/topics/${xssTopic}/messages`);
    await page.getByRole('button', { name: 'Fetch' }).click();
    await expect.poll(() => page.locator('tr.record-row').count()).toBe(2);
    await page.locator('tr.record-row[data-offset="0"]').click();
    await page.locator('tr.record-row[data-offset="1"]').click();
    await sleep(500);

    // the value as text, in the table and in the detail
    await expect.poll(() => page.getByText(XSS, { exact: true }).first().isVisible()).toBe(true);
    expect(await page.locator('tr.record-row[data-offset="0"] .cell-value').textContent()).toBe(XSS);
    expect(await page.locator('tr.record-row[data-offset="0"] .cell-key').textContent()).toBe(XSS);
    expect(await page.locator('tr.record-detail[data-offset="0"] pre[data-kind=text]').allTextContents()).toEqual([XSS, XSS]);
    expect(await page.locator('tr.record-detail[data-offset="0"] .headers-table td').allTextContents()).toEqual(['x', XSS_IMG]);
    expect(await page.locator('tr.record-row[data-offset="1"] .cell-value').textContent()).toBe(XSS_IMG);

    expect(ui.dialogs).toEqual([]);
    // (a string: the test project has no DOM types)
    const dom = await page.evaluate<{ scripts: string[]; images: number; handlers: number }>(`({
      scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src') ?? 'inline: ' + s.textContent),
      images: document.querySelectorAll('img').length,
      handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
    })`);
    expect(dom.scripts).toEqual(['app.js']);
    expect(dom.scripts.length).toBe(scriptsBefore);
    expect(dom.images).toBe(0);
    expect(dom.handlers).toBe(0);
    await ui.shot('xss');
  });

  it('shows a stopped kafkajs group with the lag per partition the kafkajs admin reports, and resets its offsets (preview, then apply)', async () => {
    const { page } = ui;
    const groupTopic = uniqueName('orders');
    const groupId = uniqueName('group');
    await admin.createTopics({ topics: [{ topic: groupTopic, numPartitions: 3 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    const send = (n: number, from: number) =>
      producer.send({ topic: groupTopic, messages: Array.from({ length: n }, (_, i) => ({ partition: i % 3, key: `k${from + i}`, value: JSON.stringify({ n: from + i }) })) });
    await send(30, 0);

    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200, sessionTimeout: 10_000, heartbeatInterval: 1000 });
    await consumer.connect();
    await consumer.subscribe({ topic: groupTopic, fromBeginning: true });
    let seen = 0;
    void consumer.run({ autoCommitInterval: 200, eachMessage: async () => void seen++ });
    await expect.poll(() => seen, { timeout: 30_000 }).toBe(30);

    // while it runs: a member with its assignment
    await ui.goto(`#/groups/${groupId}`);
    await expect.poll(() => page.locator('[data-testid=group-members] tbody tr').count(), { timeout: 20_000 }).toBe(1);
    expect(await page.locator('[data-testid=group-members]').textContent()).toContain(groupTopic);
    // the broker refuses to reset an active group's offsets; the page says so
    const reset = page.locator('[data-testid=reset-offsets]');
    await expect.poll(() => reset.locator('select[name=reset_topic] option').count()).toBe(1);
    await reset.getByRole('button', { name: 'Preview' }).click();
    const applyButton = reset.getByRole('button', { name: 'Apply reset' });
    await expect.poll(async () => (await reset.locator('[role=alert]').count()) > 0 || !(await applyButton.isDisabled())).toBe(true);
    if ((await reset.locator('[role=alert]').count()) === 0) await applyButton.click();
    await expect.poll(() => reset.locator('[role=alert]').textContent()).toContain('HTTP 409');
    await ui.shot('group-active');
    await consumer.stop();
    await consumer.disconnect();

    // lag: 5 new records on each partition
    await send(15, 30);
    await producer.disconnect();
    const committed = await admin.fetchOffsets({ groupId, topics: [groupTopic] });
    const high = await admin.fetchTopicOffsets(groupTopic);
    const adminLag = new Map(committed[0]!.partitions.map((p) => [p.partition, Number(high.find((h) => h.partition === p.partition)!.high) - Number(p.offset)]));
    expect([...adminLag.values()]).toEqual([5, 5, 5]);

    await ui.goto('#/groups');
    const listRow = page.locator(`[data-testid=groups-table] tr[data-group="${groupId}"]`);
    await expect.poll(() => listRow.locator('td.lag').textContent(), { timeout: 20_000 }).toBe('15');
    expect(await listRow.textContent()).toContain('Empty');
    await ui.shot('groups');

    await ui.goto(`#/groups/${groupId}`);
    const uiLag = async () => {
      const out = new Map<number, number>();
      for (const row of await page.locator(`[data-testid=group-offsets] tr[data-topic="${groupTopic}"]`).all()) {
        out.set(Number(await row.getAttribute('data-partition')), Number((await row.locator('td.lag').textContent())!.replace(/,/g, '')));
      }
      return out;
    };
    await expect.poll(async () => [...(await uiLag())].sort(), { timeout: 20_000 }).toEqual([...adminLag].sort());
    expect(await numbersOf(page, `[data-testid=group-offsets] tr[data-topic="${groupTopic}"] td.committed`)).toEqual(committed[0]!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset)));
    expect(await page.locator('[data-testid=group-state]').textContent()).toContain('Empty');
    await page.locator('[data-testid=chart-lag] canvas').waitFor();

    // reset to earliest: the preview changes nothing
    await reset.locator('select[name=reset_topic]').selectOption(groupTopic);
    await reset.locator('select[name=reset_to]').selectOption('earliest');
    await expect(reset.getByRole('button', { name: 'Apply reset' }).isDisabled()).resolves.toBe(true);
    await reset.getByRole('button', { name: 'Preview' }).click();
    const preview = reset.locator('[data-testid=reset-preview] tbody tr');
    await expect.poll(() => preview.count()).toBe(3);
    expect(await numbersOf(page, '[data-testid=reset-preview] td.previous')).toEqual([10, 10, 10]);
    expect(await numbersOf(page, '[data-testid=reset-preview] td.new-offset')).toEqual([0, 0, 0]);
    const afterPreview = await admin.fetchOffsets({ groupId, topics: [groupTopic] });
    expect(afterPreview[0]!.partitions.map((p) => Number(p.offset))).toEqual([10, 10, 10]);
    await ui.shot('group-reset-preview');

    await reset.getByRole('button', { name: 'Apply reset' }).click();
    await reset.locator('[data-testid=reset-applied]').waitFor();
    const afterReset = await admin.fetchOffsets({ groupId, topics: [groupTopic] });
    expect(afterReset[0]!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset))).toEqual([0, 0, 0]);
    await expect.poll(async () => [...(await uiLag()).values()], { timeout: 20_000 }).toEqual([15, 15, 15]);
    await ui.shot('group');
  });

  it('pages the message browser: newest first backwards, from an offset or a timestamp forwards and backwards, and filters', async () => {
    const { page } = ui;
    const pagingTopic = uniqueName('paging');
    await admin.createTopics({ topics: [{ topic: pagingTopic, numPartitions: 1 }], waitForLeaders: true });
    const base = Math.floor(Date.now() / 1000) * 1000 - 1_000_000;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: pagingTopic, messages: Array.from({ length: 250 }, (_, i) => ({ partition: 0, value: `value-${i}`, timestamp: String(base + i * 1000) })) });
    await producer.disconnect();
    const offsets = () => page.locator('[data-testid=messages] tr.record-row').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-offset'))));
    const range = (from: number, to: number) => Array.from({ length: Math.abs(to - from) + 1 }, (_, i) => (from <= to ? from + i : from - i));

    await ui.goto(`#/topics/${pagingTopic}/messages`);
    await page.selectOption('select[name=partition]', '0');
    await page.getByRole('button', { name: 'Fetch' }).click();
    await expect.poll(offsets).toEqual(range(249, 150));
    await page.getByRole('button', { name: 'Load older' }).click();
    await expect.poll(offsets).toEqual(range(249, 50));
    await page.getByRole('button', { name: 'Load older' }).click();
    await expect.poll(offsets).toEqual(range(249, 0));
    expect(await page.getByRole('button', { name: 'Load older' }).count()).toBe(0);

    await page.selectOption('select[name=start]', 'offset');
    await page.locator('input[name=offset]').fill('120');
    await page.selectOption('select[name=order]', 'oldest');
    await page.selectOption('select[name=limit]', '20');
    await page.getByRole('button', { name: 'Fetch' }).click();
    await expect.poll(offsets).toEqual(range(120, 139));
    await page.getByRole('button', { name: 'Load newer' }).click();
    await expect.poll(offsets).toEqual(range(120, 159));
    await page.selectOption('select[name=order]', 'newest');
    await page.getByRole('button', { name: 'Fetch' }).click();
    await expect.poll(offsets).toEqual(range(120, 101));

    // value-200 was written at base + 200 s: forwards from there, and backwards strictly before it
    await page.selectOption('select[name=start]', 'timestamp');
    await page.locator('input[name=timestamp]').fill(new Date(base + 200_000).toISOString().slice(0, 19));
    await page.selectOption('select[name=order]', 'oldest');
    await page.getByRole('button', { name: 'Fetch' }).click();
    await expect.poll(offsets).toEqual(range(200, 219));
    await page.selectOption('select[name=order]', 'newest');
    await page.getByRole('button', { name: 'Fetch' }).click();
    await expect.poll(offsets).toEqual(range(199, 180));
    expect(await page.locator('tr.record-row[data-offset="199"] .cell-value').textContent()).toBe('value-199');

    await page.selectOption('select[name=start]', 'earliest');
    await page.selectOption('select[name=limit]', '100');
    await page.getByRole('button', { name: 'Fetch' }).click();
    await expect.poll(offsets).toEqual(range(0, 99));
    await page.locator('input[name=filter]').fill('value-42');
    await expect.poll(offsets).toEqual([42]);
    await ui.shot('messages-paging');

    // live tail: records produced after it started appear
    await page.locator('input[name=filter]').fill('');
    await page.selectOption('select[name=start]', 'latest');
    await page.selectOption('select[name=order]', 'oldest');
    await page.getByRole('button', { name: 'Tail' }).click();
    await page.getByRole('button', { name: 'Stop tail' }).waitFor();
    await sleep(300);
    await kcat(broker.bootstrap, ['-P', '-t', pagingTopic, '-p', '0'], 'tailed-1\ntailed-2\n');
    await expect.poll(offsets, { timeout: 15_000 }).toEqual([250, 251]);
    expect(await page.locator('tr.record-row[data-offset="251"] .cell-value').textContent()).toBe('tailed-2');
    await page.getByRole('button', { name: 'Stop tail' }).click();
  });

  it('edits and resets a topic config, adds partitions and deletes the topic from its page, as the Kafka admin API sees it', async () => {
    const { page } = ui;
    const name = uniqueName('admin');
    await admin.createTopics({ topics: [{ topic: name, numPartitions: 2 }], waitForLeaders: true });
    const retention = async () => {
      const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms'] }], includeSynonyms: false });
      const entry = res.resources[0]!.configEntries.find((c) => c.configName === 'retention.ms')!;
      return { value: entry.configValue, isDefault: entry.isDefault };
    };

    await ui.goto(`#/topics/${name}/configs`);
    const row = page.locator('[data-testid=configs-table] tr[data-config="retention.ms"]');
    await row.getByRole('button', { name: 'Edit' }).click();
    await row.locator('input').fill('3600000');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => row.textContent()).toContain('topic');
    expect(await row.locator('td').nth(1).textContent()).toBe('3600000');
    expect(await retention()).toEqual({ value: '3600000', isDefault: false });
    await ui.shot('configs');

    await row.getByRole('button', { name: 'Reset' }).click();
    await expect.poll(() => row.locator('td').nth(2).textContent()).toBe('default');
    expect((await retention()).value).toBe('604800000');

    await ui.goto(`#/topics/${name}/settings`);
    await page.locator('input[name=count]').fill('5');
    await page.getByRole('button', { name: 'Add partitions' }).click();
    await expect.poll(async () => (await admin.fetchTopicMetadata({ topics: [name] })).topics[0]!.partitions.length).toBe(5);
    const listing = JSON.parse((await kcat(broker.bootstrap, ['-J', '-L', '-t', name])).stdout) as { topics: Array<{ partitions: unknown[] }> };
    expect(listing.topics[0]!.partitions.length).toBe(5);

    await page.locator('input[name=confirm]').fill(name);
    await page.getByRole('button', { name: 'Delete topic' }).click();
    await page.waitForURL('**/#/topics');
    await expect.poll(async () => (await admin.listTopics()).includes(name)).toBe(false);
  });

  it('shows the objects, bytes and monthly cost of object storage at a chosen price', async () => {
    const { page } = ui;
    await ui.goto('#/storage');
    await expect.poll(async () => Number((await page.locator('[data-testid=storage-objects] .stat-value').textContent())?.replace(/,/g, '')), { timeout: 20_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.locator(`[data-testid=storage-table] tr[data-topic="${topic}"]`).count()).toBe(1);
    await page.locator('input[name=price]').fill('1000');
    await expect.poll(() => page.locator('[data-testid=storage-totals]').textContent()).toContain('at $1000/GB-month');
    expect(await page.locator('[data-testid=storage-cost]').textContent()).toMatch(/^\$\d/);
    expect(await page.locator('[data-testid=storage-cost]').textContent()).not.toBe('$0.00');
    await ui.shot('storage');
  });

  it('shows this agent with the partitions and coordinator shards it leads', async () => {
    const { page } = ui;
    await ui.goto('#/agents');
    const rows = page.locator('[data-testid=agents-table] tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('this agent');
    const mine = page.locator(`.agent-card tr[data-topic="${topic}"]`);
    await expect.poll(() => mine.getAttribute('data-partitions')).toBe('0,1,2');
    await ui.shot('agents');
  });

  it('overview after the traffic: counts and throughput charts', async () => {
    const { page } = ui;
    await ui.goto('#/');
    await expect.poll(async () => Number(await page.locator('[data-testid=stat-topics] .stat-value').textContent())).toBeGreaterThanOrEqual(3);
    await page.locator('[data-testid=chart-latency] canvas').waitFor();
    await sleep(1000);
    await ui.shot('overview');
    expect(ui.errors).toEqual([]);
  });
});

describe('web console agents page in a 2-agent cluster', () => {
  let cluster: Cluster;
  let browser: Browser;

  beforeAll(async () => {
    requireBuiltConsole();
    cluster = await startCluster('console_agents', 2);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await cluster?.stop();
  });

  it('shows both agents, each with the partitions it leads as Kafka metadata reports them', async () => {
    const topic = uniqueName('spread');
    await createTopic(cluster.bootstraps(), topic, 6);
    const leaders = await waitForLeaders(cluster.agents[0]!.bootstrap, topic, 6);
    const expected = (nodeId: number) => [...leaders].filter(([, l]) => l === nodeId).map(([p]) => p).sort((a, b) => a - b).join(',');

    const ui = await openConsole(browser, cluster.agents[0]!.httpPort);
    try {
      const { page } = ui;
      await ui.goto('#/agents');
      await expect.poll(() => page.locator('[data-testid=agents-table] tbody tr').count(), { timeout: 20_000 }).toBe(2);
      expect(await page.locator('[data-testid=agents-table] tr[data-agent="agent-0"]').textContent()).toContain('this agent');
      expect(await page.locator('[data-testid=agents-table] tr[data-agent="agent-1"]').textContent()).not.toContain('this agent');
      for (const [agent, nodeId] of [['agent-0', 1], ['agent-1', 2]] as const) {
        const row = page.locator(`.agent-card[data-agent="${agent}"] tr[data-topic="${topic}"]`);
        const want = expected(nodeId);
        // the page refreshes every 5 s; leadership of a new topic settles within a heartbeat or two
        await expect.poll(async () => ((await row.count()) === 0 ? '' : await row.getAttribute('data-partitions')), { timeout: 20_000 }).toBe(want);
      }
      await ui.shot('agents-cluster');
      expect(ui.errors).toEqual([]);
    } finally {
      await ui.close();
    }
  });
});
