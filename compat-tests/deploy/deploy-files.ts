// Readers for the deployment files (docker-compose.yml, Dockerfile, .dockerignore and the
// configs under deploy/) shared by the compat-tests/deploy tests, which check them without a
// Docker engine: against the Compose Specification schema, against each other and the
// broker's own options, and by running what they describe as processes on loopback.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { START_OPTIONS } from '../../src/cli/start-options.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const COMPOSE_FILE = join(REPO, 'docker-compose.yml');

export function repoPath(relative: string): string {
  return join(REPO, relative);
}

export function readYaml<T = unknown>(relative: string): T {
  // merge: `<<: *anchor`, which Docker Compose resolves too
  return parseYaml(readFileSync(repoPath(relative), 'utf8'), { merge: true }) as T;
}

// ---------------------------------------------------------------------------------------
// Compose

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | number | { target: number; published?: string | number }>;
  volumes?: Array<string | { type: string; source?: string; target: string; read_only?: boolean }>;
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  profiles?: string[];
  restart?: string;
  [key: string]: unknown;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Compose's variable substitution in one string: `$$` is a literal `$`; `${NAME}`, `$NAME`,
 * `${NAME:-default}` (unset or empty), `${NAME-default}` (unset), `${NAME:?message}` and
 * `${NAME?message}` (an error when missing).
 */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(/\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, _all, braced?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
    if (braced === undefined && bare === undefined) return '$';
    const name = (braced ?? bare)!;
    const value = env[name];
    const missing = value === undefined || (colon === ':' && value === '');
    if (op === '-') return missing ? arg! : value!;
    if (op === '?') {
      if (missing) throw new Error(`compose variable ${name} is required: ${arg}`);
      return value!;
    }
    return value ?? '';
  });
}

function interpolateAll(value: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]));
  }
  return value;
}

/** docker-compose.yml as `docker compose config` would see it with no variables set: merged and interpolated. */
export function loadCompose(env: Readonly<Record<string, string | undefined>> = {}): ComposeFile {
  return interpolateAll(readYaml('docker-compose.yml'), env) as ComposeFile;
}

/** A service's environment as name -> value (compose accepts a map or a list of NAME=value). */
export function serviceEnv(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((line) => {
      const eq = line.indexOf('=');
      return eq < 0 ? [line, ''] : [line.slice(0, eq), line.slice(eq + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** The services built from this repository's Dockerfile: the agents. */
export function agentServiceNames(compose: ComposeFile): string[] {
  return Object.entries(compose.services)
    .filter(([, s]) => s.build !== undefined)
    .map(([name]) => name)
    .sort();
}

export interface PublishedPort {
  /** Host port; undefined when compose picks one. */
  host: number | undefined;
  container: number;
  protocol: string;
}

/** A service's `ports`, short syntax (`[ip:]host:container[/proto]`, `container`) or long. */
export function publishedPorts(service: ComposeService): PublishedPort[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object') return { host: p.published === undefined ? undefined : Number(p.published), container: p.target, protocol: 'tcp' };
    const [spec, protocol = 'tcp'] = String(p).split('/');
    const parts = spec!.split(':');
    const container = Number(parts.at(-1));
    const host = parts.length >= 2 ? Number(parts.at(-2)) : undefined;
    return { host, container, protocol };
  });
}

export interface BindMount {
  /** As written, relative to the compose file's directory. */
  source: string;
  target: string;
  readOnly: boolean;
}

export interface NamedVolumeMount {
  volume: string;
  target: string;
}

export function mounts(service: ComposeService): { binds: BindMount[]; named: NamedVolumeMount[] } {
  const binds: BindMount[] = [];
  const named: NamedVolumeMount[] = [];
  for (const v of service.volumes ?? []) {
    if (typeof v === 'object') {
      if (v.type === 'bind') binds.push({ source: v.source!, target: v.target, readOnly: v.read_only === true });
      else if (v.type === 'volume' && v.source !== undefined) named.push({ volume: v.source, target: v.target });
      continue;
    }
    const [source, target, mode = ''] = v.split(':');
    if (target === undefined) continue; // an anonymous volume
    if (/^[./~]/.test(source!)) binds.push({ source: source!, target, readOnly: mode.split(',').includes('ro') });
    else named.push({ volume: source!, target });
  }
  return { binds, named };
}

/** depends_on as service -> condition (the list form means service_started). */
export function dependsOn(service: ComposeService): Record<string, string> {
  const d = service.depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([name, v]) => [name, v.condition ?? 'service_started']));
}

/** A command or entrypoint as an argument list (compose splits a string like a shell would; only plain words are supported here). */
export function argList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/).filter((w) => w !== '');
}

// ---------------------------------------------------------------------------------------
// The agent's options, as `streamhouse start` reads them from its environment

function startOption(flag: string): { env: string; defaultText: string } {
  const o = START_OPTIONS.find((s) => s.flag === flag);
  if (o === undefined) throw new Error(`no start option --${flag}`);
  return o;
}

export interface HostPortText {
  host: string;
  port: number;
}

export function splitHostPort(text: string): HostPortText {
  const at = text.lastIndexOf(':');
  return { host: text.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(text.slice(at + 1)) };
}

/** The Kafka listener an environment configures (--kafka-listener's variable or default). */
export function kafkaListenerOf(env: Readonly<Record<string, string>>): HostPortText {
  const o = startOption('kafka-listener');
  return splitHostPort(env[o.env] || o.defaultText);
}

/** The HTTP or gRPC port an environment configures: the listener's variable, else the port's, else the default. */
export function apiPortOf(api: 'http' | 'grpc', env: Readonly<Record<string, string>>): number {
  const listener = env[startOption(`${api}-listener`).env];
  if (listener) return splitHostPort(listener).port;
  const port = startOption(`${api}-port`);
  return Number(env[port.env] || port.defaultText);
}

// ---------------------------------------------------------------------------------------
// Dockerfile

export interface Instruction {
  keyword: string;
  /** The rest of the line, continuation lines joined. */
  args: string;
  stage: string;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARG lines before the first FROM, name -> default. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line)) continue; // comments, also between continuation lines
    if (current === '' && line.trim() === '') continue;
    if (/\\\s*$/.test(line)) {
      current += line.replace(/\\\s*$/, ' ');
      continue;
    }
    current += line;
    logical.push(current.trim());
    current = '';
  }
  if (current.trim() !== '') logical.push(current.trim());
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^(\S+)\s*(.*)$/s.exec(line)!;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.replace(/\s+/g, ' ').trim();
    if (keyword === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      stages.push({ name: f[2] ?? String(stages.length), base: f[1]!.replace(/^\$\{?(\w+)\}?$/, (_x, n: string) => globalArgs[n] ?? `$${n}`), instructions: [] });
      continue;
    }
    if (stages.length === 0) {
      if (keyword === 'ARG') {
        const [name, value = ''] = args.split('=');
        globalArgs[name!] = value;
      }
      continue;
    }
    const stage = stages.at(-1)!;
    stage.instructions.push({ keyword, args, stage: stage.name });
  }
  return { globalArgs, stages };
}

export function readDockerfile(): Dockerfile {
  return parseDockerfile(readFileSync(repoPath('Dockerfile'), 'utf8'));
}

/** The stage an image is made of: the last one. */
export function runtimeStage(dockerfile: Dockerfile): Stage {
  return dockerfile.stages.at(-1)!;
}

export function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

/** An exec-form argument list (`["a", "b"]`); throws for the shell form. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not an exec form: ${args}`);
  return parsed;
}

/** ENV of a stage: `NAME=value ...` (values may be double-quoted) or the legacy `NAME value`. */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of instructions(stage, 'ENV')) {
    if (!/^\S+=/.test(args)) {
      const [name, ...rest] = args.split(' ');
      env[name!] = rest.join(' ');
      continue;
    }
    for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      env[m[1]!] = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    }
  }
  return env;
}

export interface Copy {
  /** The stage named by --from, or undefined for the build context. */
  from: string | undefined;
  sources: string[];
  dest: string;
}

export function copies(stage: Stage): Copy[] {
  return instructions(stage, 'COPY').map(({ args }) => {
    const words = args.split(' ');
    let from: string | undefined;
    while (words[0]?.startsWith('--')) {
      const flag = words.shift()!;
      if (flag.startsWith('--from=')) from = flag.slice('--from='.length);
    }
    const dest = words.pop()!;
    return { from, sources: words, dest };
  });
}

/** The last WORKDIR of a stage (where relative COPY destinations land). */
export function workdir(stage: Stage): string {
  return instructions(stage, 'WORKDIR').at(-1)?.args ?? '/';
}

// ---------------------------------------------------------------------------------------
// .dockerignore

interface IgnoreRule {
  negate: boolean;
  regex: RegExp;
}

function globToRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches any number of directories, also none
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Whether .dockerignore lets `path` (relative to the context, no leading ./) into the build
 * context: the last rule that matches the path or one of its parent directories decides, as
 * in Docker's pattern matcher; a `!` rule lets it in again.
 */
export function dockerignoreAllows(path: string, dockerignore: string): boolean {
  const rules: IgnoreRule[] = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).trim().replace(/^\/+|\/+$/g, '').replace(/^\.\//, '');
      return { negate, regex: globToRegex(pattern) };
    });
  const parts = path.split('/');
  const prefixes = parts.map((_p, i) => parts.slice(0, i + 1).join('/'));
  let allowed = true;
  for (const rule of rules) {
    if (prefixes.some((p) => rule.regex.test(p))) allowed = rule.negate;
  }
  return allowed;
}
