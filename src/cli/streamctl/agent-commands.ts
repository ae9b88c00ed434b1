import type { Command } from 'commander';
import { CommandError } from './cli-errors.js';
import { contextOf } from './context.js';
import { table } from './output.js';
import { withAdmin } from './admin-session.js';

export function registerAgentCommands(program: Command): void {
  const agent = program.command('agent').description('the agents of the cluster');

  agent
    .command('list')
    .description('list agents with the partitions they lead')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const agents = await withAdmin(ctx, (a) => a.listAgents());
      // another agent's API ports and start time are not known to the one answering (0)
      if (ctx.json) {
        ctx.out.json(agents.map((a) => ({ ...a, startedAt: a.startedAt.getTime() === 0 ? null : a.startedAt.toISOString() })));
        return;
      }
      const rows = agents.map((a) => [a.agentId, a.nodeId, a.kafkaAddress, a.grpcPort || '-', a.httpPort || '-', a.rack ?? '-', a.partitions.length]);
      for (const l of table(['AGENT', 'NODE', 'KAFKA', 'GRPC', 'HTTP', 'RACK', 'PARTITIONS'], rows, ['left', 'right', 'left', 'right', 'right', 'left', 'right'])) ctx.out.line(l);
    });

  program
    .command('health')
    .description('is the agent serving? (exit 0 when it is)')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const h = await withAdmin(ctx, (a) => a.health({ timeoutMs: ctx.timeoutMs }));
      if (ctx.json) ctx.out.json(h);
      else ctx.out.line(`${h.status}  agent ${h.agentId}  cluster ${h.clusterId}  version ${h.version}  up ${Math.floor(h.uptimeMs / 1000)}s`);
      if (h.status !== 'SERVING') throw new CommandError(`agent ${h.agentId} is ${h.status}`);
    });
}
