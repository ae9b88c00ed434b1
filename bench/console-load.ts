/**
 * Web console page load with many topics: a broker from dist/ gets --topics topics of --partitions partitions
 * topics (kafkajs admin), then Chromium (Debian's, through playwright-core) opens the Topics
 * page --runs times in a fresh browser context each, and the time from navigation to a table
 * of every topic is printed in ms, beside GET /api/v1/topics alone and the Overview page.
 *   npm run build && npx tsx bench/console-load.ts [--topics 1000] [--runs 5]
 */
import { Kafka, logLevel } from 'kafkajs';
import { chromium, type Page } from 'playwright-core';
import { startBrokerProcess } from '../test-kit/broker-process.js';
import { intFlag, parseFlags } from './lib/args.js';

const flags = parseFlags('console-load.ts', {
  topics: { default: '1000', help: 'topics to create before loading the page' },
  partitions: { default: '10', help: 'partitions per topic (the goal: 1,000 topics, 10,000 partitions)' },
  runs: { default: '5', help: 'page loads measured (the first one is reported apart: cold caches)' },
});
const topicCount = intFlag(flags.topics, 'topics', 1);
const runs = intFlag(flags.runs, 'runs', 1);
const partitionsPerTopic = intFlag(flags.partitions, 'partitions', 1);

function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)]!;
  return `median ${median.toFixed(0)} ms, min ${s[0]!.toFixed(0)} ms, max ${s[s.length - 1]!.toFixed(0)} ms`;
}

const broker = await startBrokerProcess({ logLevel: 'warn' });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const admin = new Kafka({ clientId: 'console-load', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const createdAt = performance.now();
  for (let i = 0; i < topicCount; i += 100) {
    const batch = Array.from({ length: Math.min(100, topicCount - i) }, (_, j) => ({ topic: `load-${String(i + j).padStart(5, '0')}`, numPartitions: partitionsPerTopic }));
    await admin.createTopics({ topics: batch, waitForLeaders: false, timeout: 60_000 });
  }
  await admin.disconnect();
  console.log(`${topicCount} topics of ${partitionsPerTopic} partitions created in ${(performance.now() - createdAt).toFixed(0)} ms`);

  const base = `http://127.0.0.1:${broker.httpPort}/`;
  const api: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const body = (await (await fetch(`${base}api/v1/topics`)).json()) as { topics: unknown[] };
    api.push(performance.now() - t0);
    if (body.topics.length < topicCount) throw new Error(`GET /api/v1/topics listed ${body.topics.length} topics, expected ${topicCount}`);
  }

  // locators rather than waitForFunction: the console's CSP forbids evaluating strings
  async function load(hash: string, ready: (page: Page) => Promise<void>): Promise<number> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const t0 = performance.now();
    await page.goto(`${base}${hash}`);
    await ready(page);
    const ms = performance.now() - t0;
    await context.close();
    return ms;
  }

  const rowsReady = (page: Page) => page.locator('[data-testid=topics-table] tbody tr').nth(topicCount - 1).waitFor({ timeout: 60_000 });
  const countText = new Intl.NumberFormat('en-US').format(topicCount);
  const countReady = (page: Page) => page.locator('[data-testid=stat-topics] .stat-value').filter({ hasText: new RegExp(`^${countText}$`) }).waitFor({ timeout: 60_000 });
  const topicsPage: number[] = [];
  for (let r = 0; r < runs + 1; r++) topicsPage.push(await load('#/topics', rowsReady));
  const overview: number[] = [];
  for (let r = 0; r < runs; r++) overview.push(await load('#/', countReady));

  console.log(`GET /api/v1/topics (${topicCount} topics, ${topicCount * partitionsPerTopic} partitions): ${summary(api)}`);
  console.log(`Topics page, navigation to all ${topicCount} rows rendered: first ${topicsPage[0]!.toFixed(0)} ms; then ${summary(topicsPage.slice(1))}`);
  console.log(`Overview page, navigation to the topic count shown: ${summary(overview)}`);
} finally {
  await browser.close();
  await broker.cleanup();
}
