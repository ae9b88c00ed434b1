// The Dockerfile's runtime stage without Docker: its /app is laid out in a temp directory from
// the stage's COPY instructions (context files from the repository, the build stage's dist/
// from this repository's build, the deps stage's production node_modules stood in for by the
// repository's), and its ENTRYPOINT is started from there with the image's ENV and nothing
// else, as `docker run` would. That catches a file the image lacks (package.json's
// "type": "module", the gRPC definition, the console) and a broken HEALTHCHECK. The
// repository's node_modules also has the devDependencies, so a static check stands in for the
// production-only install: every package dist/ imports must be a production dependency.

import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test-kit/broker-process.js';
import { copies, execForm, instructions, readDockerfile, repoPath, runtimeStage, stageEnv, workdir, type Stage } from './deploy-files.js';

const dockerfile = readDockerfile();
const runtime = runtimeStage(dockerfile);
const stages = new Map(dockerfile.stages.map((s) => [s.name, s]));

let root = '';
/** An absolute path of the image, in the temp directory. */
const inImage = (path: string): string => join(root, path);

/** Where the repository has what `stage` makes at `path`: the build stage's outputs are the repository's own build. */
function stageOutput(stage: Stage, path: string): string {
  const dir = workdir(stage);
  if (!path.startsWith(`${dir}/`)) throw new Error(`${path} is not under ${stage.name}'s WORKDIR ${dir}`);
  return repoPath(path.slice(dir.length + 1));
}

function layOutRuntime(): void {
  const dir = workdir(runtime);
  for (const copy of copies(runtime)) {
    const dest = inImage(posix.isAbsolute(copy.dest) ? copy.dest : posix.join(dir, copy.dest));
    for (const source of copy.sources) {
      const from = copy.from === undefined ? repoPath(source) : stageOutput(stages.get(copy.from)!, source);
      // COPY dir dest copies dir's contents; COPY file dir/ puts the file inside
      const target = copy.dest.endsWith('/') && !statSync(from).isDirectory() ? join(dest, posix.basename(source)) : dest;
      mkdirSync(dirname(target), { recursive: true });
      if (copy.from === 'deps') {
        // the deps stage's node_modules: the repository's (a superset, see the static check)
        symlinkSync(from, target);
      } else {
        cpSync(from, target, { recursive: true });
      }
    }
  }
  // RUN mkdir -p of the data directory
  mkdirSync(inImage(stageEnv(runtime).STREAMHOUSE_DATA_DIR!), { recursive: true });
}

/** The file a command of the image runs, through the `ln -s` links of its RUN lines. */
function resolveCommand(name: string): string {
  const runs = instructions(runtime, 'RUN').map((r) => r.args).join(' ');
  for (const m of runs.matchAll(/ln -s (\S+) (\S+)/g)) {
    if (m[2] === `/usr/local/bin/${name}` || m[2] === `/usr/bin/${name}`) return inImage(m[1]!);
  }
  throw new Error(`the image has no ${name} on its PATH`);
}

/** The image's ENV, with its paths moved into the temp directory. */
function imageEnv(): Record<string, string> {
  const env = stageEnv(runtime);
  return { ...env, STREAMHOUSE_DATA_DIR: inImage(env.STREAMHOUSE_DATA_DIR!) };
}

function run(command: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, command, { cwd: inImage(workdir(runtime)), env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** The image's HEALTHCHECK command, its paths in the temp directory. */
function healthcheckCommand(): string[] {
  const [health] = instructions(runtime, 'HEALTHCHECK');
  const args = execForm(/CMD\s+(\[.*\])$/.exec(health!.args)![1]!);
  expect(args[0]).toBe('node');
  return args.slice(1).map((a) => (a.startsWith('/') ? inImage(a) : a));
}

/** Package names that a compiled module imports (static, dynamic and re-exports). */
function importedPackages(source: string): string[] {
  const specifiers = [
    ...source.matchAll(/^\s*(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/gm),
    ...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
    ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('/') && !s.startsWith('node:'))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}

describe('the Dockerfile\'s runtime stage, laid out without Docker', () => {
  let agent: ChildProcess | undefined;
  let output = '';
  let httpPort = 0;
  let env: Record<string, string> = {};

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'streamhouse-image-'));
    layOutRuntime();
    const entrypoint = execForm(instructions(runtime, 'ENTRYPOINT')[0]!.args);
    const [kafkaPort, grpcPort] = [await freePort(), await freePort()];
    httpPort = await freePort();
    // as `docker run -e ...` on free ports: the image's defaults are taken here
    env = {
      ...imageEnv(),
      STREAMHOUSE_KAFKA_LISTENER: `127.0.0.1:${kafkaPort}`,
      STREAMHOUSE_HTTP_PORT: String(httpPort),
      STREAMHOUSE_GRPC_PORT: String(grpcPort),
    };
    agent = spawn(process.execPath, [resolveCommand(entrypoint[0]!), ...entrypoint.slice(1)], {
      cwd: inImage(workdir(runtime)),
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const until = Date.now() + 20_000;
    for (;;) {
      if (agent.exitCode !== null) throw new Error(`the image's entrypoint exited with ${agent.exitCode}:\n${output}`);
      const res = await fetch(`http://127.0.0.1:${httpPort}/ready`).catch(() => undefined);
      if (res?.status === 200) break;
      if (Date.now() > until) throw new Error(`not ready after 20 s:\n${output}`);
      await sleep(100);
    }
  }, 60_000);

  afterAll(async () => {
    if (agent !== undefined && agent.exitCode === null && agent.signalCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    }
    if (root !== '') rmSync(root, { recursive: true, force: true });
  }, 30_000);

  it('starts its ENTRYPOINT with the image\'s ENV: ready, its data in the image\'s data directory', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/ready`);
    expect(res.status, output).toBe(200);
    expect(readdirSync(env.STREAMHOUSE_DATA_DIR!)).toContain('metadata.db');
  });

  it('serves the web console and the REST API\'s OpenAPI document from the copied dist/', async () => {
    const page = await fetch(`http://127.0.0.1:${httpPort}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    expect((await fetch(`http://127.0.0.1:${httpPort}/api/v1/openapi.json`)).status).toBe(200);
  });

  it('passes its HEALTHCHECK, which fails once the agent is gone', async () => {
    const healthy = await run(healthcheckCommand(), env);
    expect(healthy.code, healthy.output).toBe(0);
    const exited = new Promise<number | null>((r) => agent!.once('exit', (code) => r(code)));
    agent!.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    const gone = await run(healthcheckCommand(), env);
    expect(gone.code).toBe(1);
  });

  it('imports only production dependencies and node built-ins from dist/ (the deps stage installs no others)', () => {
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []));
    // dist/console is a browser bundle with everything inlined
    const files = walk(inImage(posix.join(workdir(runtime), 'dist'))).filter((f) => !f.includes(`${join('dist', 'console')}`));
    expect(files.length).toBeGreaterThan(50);
    const used = new Set<string>();
    for (const f of files) {
      for (const name of importedPackages(readFileSync(f, 'utf8'))) {
        used.add(name);
        expect(allowed.has(name), `${f.slice(root.length)} imports ${name}, not a production dependency`).toBe(true);
      }
    }
    // the scan sees imports at all
    expect(used).toContain('fastify');
  });
});
