import { InvalidArgumentError, type Command } from 'commander';
import type { GroupOffset, ResetTarget } from '../../grpc/client/admin-client.js';
import { UsageError } from './cli-errors.js';
import { collect, contextOf, intArg } from './context.js';
import { table } from './output.js';
import { withAdmin } from './admin-session.js';

function offsetsJson(rows: readonly GroupOffset[]) {
  return rows.map((o) => ({
    topic: o.topic,
    partition: o.partition,
    committedOffset: o.committedOffset,
    highWatermark: o.highWatermark,
    lag: o.lag,
    metadata: o.metadata,
    commitTimestamp: o.commitTimestamp.toISOString(),
  }));
}

function offsetsTable(rows: readonly GroupOffset[]): string[] {
  return table(
    ['TOPIC', 'PARTITION', 'COMMITTED', 'HIGH-WATERMARK', 'LAG'],
    rows.map((o) => [o.topic, o.partition, o.committedOffset, o.highWatermark < 0n ? '-' : o.highWatermark, o.lag]),
    ['left', 'right', 'right', 'right', 'right'],
  );
}

function offsetArg(value: string): bigint {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`--to-offset must be an offset (0 or more), got "${value}"`);
  return BigInt(value.trim());
}

function datetimeArg(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`--to-datetime must be an ISO-8601 time or epoch milliseconds, got "${value}"`);
  return ms;
}

export function registerGroupCommands(program: Command): void {
  const group = program.command('group').description('consumer groups: committed offsets and lag');

  group
    .command('list')
    .description('list consumer groups with their total lag')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const groups = await withAdmin(ctx, (a) => a.listGroups());
      if (ctx.json) {
        ctx.out.json(groups);
        return;
      }
      if (groups.length === 0) {
        ctx.out.line('no consumer groups');
        return;
      }
      const rows = groups.map((g) => [g.groupId, g.state, g.memberCount, g.partitionCount, g.totalLag]);
      for (const l of table(['GROUP', 'STATE', 'MEMBERS', 'PARTITIONS', 'LAG'], rows, ['left', 'left', 'right', 'right', 'right'])) ctx.out.line(l);
    });

  group
    .command('describe <group>')
    .description('committed offsets, high watermarks and lag per partition')
    .action(async (groupId: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const g = await withAdmin(ctx, (a) => a.describeGroup(groupId));
      if (ctx.json) {
        ctx.out.json({ groupId: g.groupId, state: g.state, members: g.members, totalLag: g.totalLag, offsets: offsetsJson(g.offsets) });
        return;
      }
      ctx.out.line(`Group: ${g.groupId}  State: ${g.state}  Members: ${g.members.length}  Total lag: ${g.totalLag}`);
      if (g.offsets.length > 0) for (const l of offsetsTable(g.offsets)) ctx.out.line(l);
      if (g.members.length > 0) {
        ctx.out.line('');
        for (const l of table(['MEMBER', 'CLIENT-ID', 'HOST'], g.members.map((m) => [m.memberId, m.clientId, m.clientHost]))) ctx.out.line(l);
      }
    });

  group
    .command('reset-offsets <group>')
    .description('move a group\'s committed offsets (the group must have no active members)')
    .requiredOption('-t, --topic <topic>', 'topic whose offsets move')
    .option('-p, --partition <n>', 'only this partition (repeatable; default all)', collect(intArg('--partition')))
    .option('--to-earliest', 'to the log start')
    .option('--to-latest', 'to the high watermark')
    .option('--to-offset <offset>', 'to this offset (clamped to the log)', offsetArg)
    .option('--to-datetime <time>', 'to the first record at or after this time (ISO-8601 or epoch ms)', datetimeArg)
    .option('--dry-run', 'show the new offsets without committing them')
    .action(
      async (
        groupId: string,
        opts: { topic: string; partition?: number[]; toEarliest?: boolean; toLatest?: boolean; toOffset?: bigint; toDatetime?: number; dryRun?: boolean },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const targets: ResetTarget[] = [];
        if (opts.toEarliest) targets.push({ to: 'earliest' });
        if (opts.toLatest) targets.push({ to: 'latest' });
        if (opts.toOffset !== undefined) targets.push({ offset: opts.toOffset });
        if (opts.toDatetime !== undefined) targets.push({ timestamp: opts.toDatetime });
        if (targets.length !== 1) throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime');
        const rows = await withAdmin(ctx, (a) => a.resetGroupOffsets(groupId, opts.topic, targets[0]!, { ...(opts.partition ? { partitions: opts.partition } : {}), dryRun: opts.dryRun === true }));
        if (ctx.json) {
          ctx.out.json({ groupId, dryRun: opts.dryRun === true, offsets: offsetsJson(rows) });
          return;
        }
        ctx.out.line(opts.dryRun ? `would reset group ${groupId} (dry run, nothing committed):` : `reset group ${groupId}:`);
        for (const l of offsetsTable(rows)) ctx.out.line(l);
      },
    );
}
