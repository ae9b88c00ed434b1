#!/usr/bin/env node
import { CommanderError } from 'commander';
import { resolveAddress } from '../grpc/client/address.js';
import { describeFailure, EXIT_OK, EXIT_USAGE } from './streamctl/cli-errors.js';
import { DEFAULT_TIMEOUT_MS } from './streamctl/context.js';
import { buildProgram } from './streamctl/program.js';

// A reader that went away (`streamctl consume ... | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT_OK);
  throw err;
});

const program = buildProgram();
try {
  await program.parseAsync(process.argv);
  process.exitCode = EXIT_OK;
} catch (err) {
  if (err instanceof CommanderError) {
    // help and --version end with code 0; every other commander error is a usage error
    process.exitCode = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  } else {
    const opts = program.opts<{ addr?: string; timeout?: number }>();
    const { line, code } = describeFailure(err, resolveAddress(opts.addr), opts.timeout ?? DEFAULT_TIMEOUT_MS);
    process.stderr.write(`streamctl: ${line}\n`);
    process.exitCode = code;
  }
}
