import { Command, Option } from 'commander';
import { DEFAULT_ADDRESS } from '../../grpc/client/address.js';
import { VERSION } from '../../version.js';
import { registerAgentCommands } from './agent-commands.js';
import { registerConsumeCommand } from './consume-command.js';
import { DEFAULT_TIMEOUT_MS, intArg } from './context.js';
import { registerGroupCommands } from './group-commands.js';
import { registerProduceCommand } from './produce-command.js';
import { registerTopicCommands } from './topic-commands.js';
import { registerUserCommands } from './user-commands.js';
import { registerAclCommands } from './acl-commands.js';

/** The streamctl command tree; errors are thrown (exitOverride), never exit the process. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('streamctl')
    .description('StreamHouse admin CLI over the native gRPC API')
    .version(VERSION)
    .addOption(new Option('--addr <url>', `StreamHouse gRPC address (default ${DEFAULT_ADDRESS})`).env('STREAMHOUSE_ADDR'))
    .option('--json', 'machine-readable output')
    .option('--timeout <ms>', `deadline of each call (default ${DEFAULT_TIMEOUT_MS})`, intArg('--timeout', 1))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(`streamctl: ${text.replace(/^error: /, '')}`),
    });
  registerTopicCommands(program);
  registerProduceCommand(program);
  registerConsumeCommand(program);
  registerGroupCommands(program);
  registerAgentCommands(program);
  registerUserCommands(program);
  registerAclCommands(program);
  for (const cmd of allCommands(program)) {
    cmd.exitOverride();
    cmd.configureOutput({ outputError: (text, write) => write(`streamctl: ${text.replace(/^error: /, '')}`) });
  }
  return program;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}
