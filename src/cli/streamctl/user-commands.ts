import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { ApiKey, type RequestOf } from '../../protocol/api-codec.js';
import { ErrorCode, errorInfo } from '../../protocol/error-codes.js';

const errorName = (code: number): string => errorInfo(code).name;
import { SCRAM_MECHANISM_CODES, SCRAM_MECHANISMS, SCRAM_MIN_ITERATIONS, saltedPassword, scramMechanismOfCode } from '../../agent/security/scram.js';
import type { ScramMechanismName } from '../../metadata/metadata-store.js';
import { CommandError, UsageError } from './cli-errors.js';
import type { KafkaAdminClient } from './kafka-admin-client.js';
import { addKafkaListenerOptions, withKafkaClient as withClient } from './kafka-listener-options.js';
import { stdout, table } from './output.js';

// `streamctl user create|list|delete|passwd` (docs/security.md): SCRAM users through Kafka's
// DescribeUserScramCredentials / AlterUserScramCredentials on a Kafka listener, so the
// password is salted and hashed here and never leaves this process.

async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const first = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (first === '') throw new UsageError('no password on stdin');
  return first;
}

async function newPassword(o: { password?: string; passwordStdin?: boolean }): Promise<string> {
  if (o.passwordStdin) return readPasswordFromStdin();
  const p = o.password ?? process.env.STREAMCTL_USER_PASSWORD;
  if (p === undefined || p === '') throw new UsageError('give the new password with --password-stdin, STREAMCTL_USER_PASSWORD or --password');
  return p;
}

function mechanismArg(value: string): ScramMechanismName {
  const m = value.toUpperCase();
  if (m !== 'SCRAM-SHA-256' && m !== 'SCRAM-SHA-512') throw new UsageError(`--mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512, got "${value}"`);
  return m;
}

async function describe(client: KafkaAdminClient, users: string[] | null) {
  const r = await client.request(ApiKey.DescribeUserScramCredentials, 0, { users: users === null ? null : users.map((name) => ({ name })) });
  if (r.errorCode !== 0) throw new CommandError(`DescribeUserScramCredentials: ${errorName(r.errorCode)}${r.errorMessage ? ` (${r.errorMessage})` : ''}`);
  return r.results;
}

async function alter(client: KafkaAdminClient, body: RequestOf<typeof ApiKey.AlterUserScramCredentials>, user: string): Promise<void> {
  const r = await client.request(ApiKey.AlterUserScramCredentials, 0, body);
  const failed = r.results.find((x) => x.errorCode !== ErrorCode.NONE);
  if (failed) throw new CommandError(`user ${user}: ${errorName(failed.errorCode)}${failed.errorMessage ? ` (${failed.errorMessage})` : ''}`);
}

async function upsertion(user: string, mechanism: ScramMechanismName, password: string, iterations: number) {
  const salt = randomBytes(32);
  return { name: user, mechanism: SCRAM_MECHANISM_CODES[mechanism], iterations, salt, saltedPassword: await saltedPassword(mechanism, password, salt, iterations) };
}

export function registerUserCommands(program: Command): void {
  const user = addKafkaListenerOptions(
    program.command('user').description('SCRAM users (SASL PLAIN and SCRAM logins) over a Kafka listener'),
    'who logs in (a super user when super.users is set, or one with DESCRIBE/ALTER on the cluster under the authorizer)',
  );

  const passwordOptions = (c: Command) =>
    c
      .option('--mechanism <mechanism>', 'SCRAM-SHA-256 or SCRAM-SHA-512', 'SCRAM-SHA-512')
      .option('--iterations <n>', `SCRAM iterations, ${SCRAM_MIN_ITERATIONS}-16384`, String(SCRAM_MIN_ITERATIONS))
      .option('--password-stdin', 'read the new password from the first line of stdin')
      .addOption(new Option('--password <password>', 'the new password (visible to other local users; prefer --password-stdin or STREAMCTL_USER_PASSWORD)'));

  user
    .command('list')
    .description('users with their SCRAM mechanisms and iterations')
    .action(async (_o: unknown, cmd: Command) =>
      withClient(cmd, async (client, o) => {
        const results = await describe(client, null);
        const rows = results.flatMap((r) => r.credentialInfos.map((c) => ({ user: r.user, mechanism: scramMechanismOfCode(c.mechanism) ?? String(c.mechanism), iterations: c.iterations })));
        if (o.json) stdout.json(rows);
        else for (const l of table(['USER', 'MECHANISM', 'ITERATIONS'], rows.map((r) => [r.user, r.mechanism, r.iterations]), ['left', 'left', 'right'])) stdout.line(l);
      }),
    );

  for (const [name, description, mustExist] of [
    ['create', 'create a user (fails if it has a credential for that mechanism)', false],
    ['passwd', 'set a new password of an existing user', true],
  ] as const) {
    passwordOptions(user.command(name).argument('<name>').description(description)).action(async (userName: string, opts: { mechanism: string; iterations: string; password?: string; passwordStdin?: boolean }, cmd: Command) => {
      const mechanism = mechanismArg(opts.mechanism);
      const iterations = Number(opts.iterations);
      if (!Number.isInteger(iterations)) throw new UsageError(`--iterations must be an integer, got "${opts.iterations}"`);
      const password = await newPassword(opts);
      await withClient(cmd, async (client) => {
        const existing = (await describe(client, [userName]))[0];
        const has = existing?.errorCode === 0 && existing.credentialInfos.some((c) => c.mechanism === SCRAM_MECHANISM_CODES[mechanism]);
        if (!mustExist && has) throw new CommandError(`user ${userName} already has a ${mechanism} credential; use streamctl user passwd`);
        if (mustExist && !has) throw new CommandError(`user ${userName} has no ${mechanism} credential; use streamctl user create`);
        await alter(client, { deletions: [], upsertions: [await upsertion(userName, mechanism, password, iterations)] }, userName);
        stdout.line(`${name === 'create' ? 'created' : 'changed the password of'} user ${userName} (${mechanism})`);
      });
    });
  }

  user
    .command('delete')
    .argument('<name>')
    .description('delete a user: every SCRAM credential, or only --mechanism')
    .option('--mechanism <mechanism>', 'SCRAM-SHA-256 or SCRAM-SHA-512 (default: all)')
    .action(async (userName: string, opts: { mechanism?: string }, cmd: Command) =>
      withClient(cmd, async (client) => {
        const existing = (await describe(client, [userName]))[0];
        if (!existing || existing.errorCode !== 0) throw new CommandError(`user ${userName} does not exist`);
        const mechanisms = opts.mechanism !== undefined ? [mechanismArg(opts.mechanism)] : SCRAM_MECHANISMS.filter((m) => existing.credentialInfos.some((c) => c.mechanism === SCRAM_MECHANISM_CODES[m]));
        // one change per user and request (Kafka's rule)
        for (const m of mechanisms) await alter(client, { deletions: [{ name: userName, mechanism: SCRAM_MECHANISM_CODES[m] }], upsertions: [] }, userName);
        stdout.line(`deleted user ${userName} (${mechanisms.join(', ')})`);
      }),
    );
}
