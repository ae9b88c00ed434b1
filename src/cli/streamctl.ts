#!/usr/bin/env node
import { Command } from 'commander';
import { VERSION } from '../version.js';

// The admin commands talk to the gRPC API, which arrives with its own issue; until then
// streamctl only reports its version.
const program = new Command();
program.name('streamctl').description('StreamHouse admin CLI (gRPC API not built yet)').version(VERSION);
program.action(() => {
  process.stderr.write('streamctl: no commands yet; the gRPC API and its commands are not built yet\n');
  process.exit(1);
});
await program.parseAsync(process.argv);
