// A throwaway PostgreSQL cluster for tests: initdb into a temp directory, a server on a
// free port (TCP on 127.0.0.1 plus a socket in the same temp directory), trust auth, and
// one empty database. PostgreSQL refuses to run as root, so under root every server
// binary runs as an unprivileged user (`postgres` when it exists, else `nobody`) that
// owns the temp directory.

import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './broker-process.js';

export interface PostgresProcess {
  /** postgres://postgres@127.0.0.1:PORT/<database>: the database created at start. */
  readonly url: string;
  readonly port: number;
  /** Temp directory holding the data directory, the socket and the server log. */
  readonly dir: string;
  /** URL of another database on this server. */
  urlFor(database: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(database: string): Promise<string>;
  /** Drops a database, disconnecting whoever is still in it. */
  dropDatabase(database: string): Promise<void>;
  /** Simulates a crash: `pg_ctl restart -m immediate` (no shutdown checkpoint, clients cut off). */
  restartImmediate(): Promise<void>;
  /** The server log so far (for failure messages). */
  log(): string;
  /** Stops the server and removes the temp directory. Idempotent. */
  stop(): Promise<void>;
}

export interface PostgresProcessOptions {
  /** Name of the database created at start. Default "streamhouse". */
  readonly database?: string;
  /** Extra `-c name=value` server settings. */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * ICU locale of the cluster's default collation (PostgreSQL 15+). Default "en-US", as on
   * a typical production server, where text does NOT sort in byte order; null for plain C.UTF-8.
   */
  readonly icuLocale?: string | null;
}

const SUPERUSER = 'postgres';

/** Directory of initdb/pg_ctl: `pg_config --bindir` when it points at them, else the newest Debian install. */
export function findPostgresBinDir(): string {
  const fromConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (fromConfig.status === 0) {
    const dir = fromConfig.stdout.trim();
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error('PostgreSQL server binaries not found (no initdb via pg_config --bindir or /usr/lib/postgresql/*/bin); apt-get install -y postgresql');
  }
  return join(root, newest, 'bin');
}

interface RunAs {
  /** Set when running as root: the user the server binaries run as, through runuser. */
  readonly user?: string;
  readonly uid?: number;
  readonly gid?: number;
}

function commandLine(runAs: RunAs, program: string, args: readonly string[]): { cmd: string; args: string[] } {
  return runAs.user === undefined
    ? { cmd: program, args: [...args] }
    : { cmd: 'runuser', args: ['-u', runAs.user, '--', program, ...args] };
}

function unprivilegedUser(): RunAs {
  if (process.getuid?.() !== 0) return {};
  for (const user of ['postgres', 'nobody']) {
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) {
      return { user, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
    }
  }
  throw new Error('running as root but neither a "postgres" nor a "nobody" user exists to run PostgreSQL');
}

function run(runAs: RunAs, program: string, args: readonly string[], timeoutMs = 120_000): Promise<string> {
  const { cmd, args: rest } = commandLine(runAs, program, args);
  return new Promise((resolve, reject) => {
    // cwd: the unprivileged user may not be allowed into the caller's working directory.
    const child = spawn(cmd, rest, { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${program} ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Starts a fresh cluster; always call stop() (an exit hook stops it if a test run dies). */
export async function startPostgres(options: PostgresProcessOptions = {}): Promise<PostgresProcess> {
  const bin = findPostgresBinDir();
  const runAs = unprivilegedUser();
  const dir = mkdtempSync(join(tmpdir(), 'streamhouse-pg-'));
  if (runAs.uid !== undefined && runAs.gid !== undefined) chownSync(dir, runAs.uid, runAs.gid);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const database = options.database ?? 'streamhouse';
  const pgCtl = join(bin, 'pg_ctl');

  let port = 0;
  let stopped = false;
  const serverOptions = (): string =>
    [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=on',
      '-c max_connections=200',
      ...Object.entries(options.settings ?? {}).map(([k, v]) => `-c ${k}=${v}`),
    ].join(' ');
  const readLog = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const stopNow = (): void => {
    if (stopped) return;
    stopped = true;
    const { cmd, args } = commandLine(runAs, pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    spawnSync(cmd, args, { cwd: '/', stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopNow);

  try {
    const initdb = ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions', '-N'];
    const icuLocale = options.icuLocale === undefined ? 'en-US' : options.icuLocale;
    if (icuLocale === null) {
      await run(runAs, join(bin, 'initdb'), initdb);
    } else {
      // initdb removes its half-made data directory on failure, so a retry starts clean.
      await run(runAs, join(bin, 'initdb'), [...initdb, '--locale-provider=icu', `--icu-locale=${icuLocale}`]).catch(() =>
        run(runAs, join(bin, 'initdb'), initdb),
      );
    }
    // The port is free when picked but someone may take it before the server binds: retry.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await run(runAs, pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', serverOptions(), 'start']);
        break;
      } catch (err) {
        if (attempt >= 3) throw new Error(`${(err as Error).message}\nserver log:\n${readLog()}`);
      }
    }
    const urlFor = (db: string): string => `postgres://${SUPERUSER}@127.0.0.1:${port}/${encodeURIComponent(db)}`;
    const adminUrl = urlFor('postgres');
    await adminQuery(adminUrl, `CREATE DATABASE ${quoteIdent(database)}`);

    return {
      url: urlFor(database),
      port,
      dir,
      urlFor,
      async createDatabase(name) {
        await adminQuery(adminUrl, `CREATE DATABASE ${quoteIdent(name)}`);
        return urlFor(name);
      },
      async dropDatabase(name) {
        await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      },
      async restartImmediate() {
        await run(runAs, pgCtl, ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-m', 'immediate', '-o', serverOptions(), 'restart']);
      },
      log: readLog,
      async stop() {
        if (stopped) return;
        process.removeListener('exit', stopNow);
        try {
          await run(runAs, pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
        } finally {
          stopped = true;
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    process.removeListener('exit', stopNow);
    stopNow();
    throw err;
  }
}
