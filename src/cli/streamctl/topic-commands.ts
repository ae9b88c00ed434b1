import type { Command } from 'commander';
import type { TopicDescription } from '../../grpc/client/admin-client.js';
import { withAdmin } from './admin-session.js';
import { collect, contextOf, intArg, keyValue } from './context.js';
import { table } from './output.js';


function topicJson(t: TopicDescription) {
  return {
    name: t.name,
    topicId: t.topicId,
    partitionCount: t.partitionCount,
    configs: t.configs,
    createdAt: t.createdAt.toISOString(),
    partitions: t.partitions.map((p) => ({ partition: p.partition, logStartOffset: p.logStartOffset, highWatermark: p.highWatermark, leaderAgentId: p.leaderAgentId, leaderNodeId: p.leaderNodeId })),
  };
}

export function registerTopicCommands(program: Command): void {
  const topic = program.command('topic').description('create, list, describe and delete topics');

  topic
    .command('create <name>')
    .description('create a topic')
    .option('-p, --partitions <n>', 'number of partitions (default: the broker\'s num.partitions)', intArg('--partitions', 1, 100_000))
    .option('-c, --config <key=value>', 'topic config override (repeatable)', collect(keyValue('--config')))
    .action(async (name: string, opts: { partitions?: number; config?: Array<[string, string]> }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const t = await withAdmin(ctx, (a) => a.createTopic(name, { ...(opts.partitions !== undefined ? { partitions: opts.partitions } : {}), configs: Object.fromEntries(opts.config ?? []) }));
      if (ctx.json) ctx.out.json(topicJson(t));
      else ctx.out.line(`created topic ${t.name} with ${t.partitionCount} partition${t.partitionCount === 1 ? '' : 's'}`);
    });

  topic
    .command('list')
    .description('list topics')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const topics = await withAdmin(ctx, (a) => a.listTopics());
      if (ctx.json) {
        ctx.out.json(topics);
        return;
      }
      if (topics.length === 0) {
        ctx.out.line('no topics');
        return;
      }
      for (const l of table(['TOPIC', 'PARTITIONS', 'RECORDS'], topics.map((t) => [t.name, t.partitionCount, t.recordCount]), ['left', 'right', 'right'])) ctx.out.line(l);
    });

  topic
    .command('describe <name>')
    .description('partitions with their offsets, and config overrides')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const t = await withAdmin(ctx, (a) => a.describeTopic(name));
      if (ctx.json) {
        ctx.out.json(topicJson(t));
        return;
      }
      ctx.out.line(`Topic: ${t.name}  Id: ${t.topicId}  Partitions: ${t.partitionCount}`);
      const configs = Object.entries(t.configs).sort(([a], [b]) => (a < b ? -1 : 1));
      ctx.out.line(`Configs: ${configs.length === 0 ? '(broker defaults)' : configs.map(([k, v]) => `${k}=${v}`).join(', ')}`);
      const rows = t.partitions.map((p) => [p.partition, p.logStartOffset, p.highWatermark, p.highWatermark - p.logStartOffset, p.leaderAgentId || '-']);
      for (const l of table(['PARTITION', 'LOG-START', 'HIGH-WATERMARK', 'RECORDS', 'LEADER'], rows, ['right', 'right', 'right', 'right', 'left'])) ctx.out.line(l);
    });

  topic
    .command('delete <name>')
    .description('delete a topic and its records')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withAdmin(ctx, (a) => a.deleteTopic(name));
      if (ctx.json) ctx.out.json({ deleted: name });
      else ctx.out.line(`deleted topic ${name}`);
    });
}
