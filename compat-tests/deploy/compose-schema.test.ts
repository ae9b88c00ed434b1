// docker-compose.yml, checked without Docker: against the Compose Specification's JSON schema
// (vendored in deploy/schema/, see its README), then for what the schema cannot see: images,
// mounted paths, ports, health checks behind depends_on conditions, the agents' environment
// against `streamhouse start`'s own options and the S3 store's variables, the wiring of
// Prometheus, Alertmanager and Grafana, and the Dockerfile and .dockerignore behind `build: .`.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { addStartOptions, START_OPTIONS, startConfig } from '../../src/cli/start-options.js';
import { s3OptionsFromEnv } from '../../src/storage/s3/s3-config.js';
import {
  agentServiceNames,
  apiPortOf,
  copies,
  dependsOn,
  dockerignoreAllows,
  execForm,
  instructions,
  interpolate,
  kafkaListenerOf,
  loadCompose,
  mounts,
  publishedPorts,
  readDockerfile,
  readYaml,
  REPO,
  repoPath,
  runtimeStage,
  serviceEnv,
  splitHostPort,
  stageEnv,
  workdir,
  type ComposeFile,
} from './deploy-files.js';

const compose = loadCompose();
const agents = agentServiceNames(compose);
const dockerfile = readDockerfile();
const runtime = runtimeStage(dockerfile);
const imageEnv = stageEnv(runtime);

function compileComposeSchema() {
  const schema = JSON.parse(readFileSync(repoPath('deploy/schema/compose-spec.json'), 'utf8')) as object;
  // strictTypes off: the schema uses union types and additionalProperties without "type"
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  return ajv.compile(schema);
}

/** The agent's environment inside its container: the image's ENV, then the service's. */
function agentEnv(name: string): Record<string, string> {
  return { ...imageEnv, ...serviceEnv(compose.services[name]!) };
}

/** What `streamhouse start` makes of an environment (commander reads process.env itself). */
function startConfigFrom(env: Record<string, string>) {
  const saved = process.env;
  process.env = { ...env };
  try {
    const command = addStartOptions(new Command('start')).exitOverride();
    command.parse([], { from: 'user' });
    return startConfig(command, process.env);
  } finally {
    process.env = saved;
  }
}

describe('docker-compose.yml against the Compose Specification schema', () => {
  const validate = compileComposeSchema();

  it('is valid', () => {
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the validator rejects what Compose rejects (not a schema that accepts anything)', () => {
    const broken = structuredClone(compose) as ComposeFile;
    (broken.services['agent-1'] as Record<string, unknown>).enviroment = { A: 'b' };
    expect(validate(broken)).toBe(false);
    const badCondition = structuredClone(compose) as ComposeFile;
    badCondition.services['agent-1']!.depends_on = { postgres: { condition: 'service_ready' } };
    expect(validate(badCondition)).toBe(false);
    expect(validate({ ...compose, services: { x: { image: 'a', restart: ['always'] } } })).toBe(false);
    expect(validate({ ...compose, services: { x: { image: 'a' } } })).toBe(true);
  });

  it('interpolates like Compose: $$ is a literal $, ${X:-default} applies when X is unset or empty', () => {
    expect(interpolate('a $$HOME ${X:-d} ${Y-e} $Z', { Y: '', Z: 'z' })).toBe('a $HOME d  z');
    expect(interpolate('${X:-d}', { X: 'x' })).toBe('x');
    expect(() => interpolate('${X:?needed}', {})).toThrow(/needed/);
    // the image overrides resolve to the pinned defaults
    expect(compose.services.minio!.image).toMatch(/^minio\/minio:RELEASE\./);
    expect(loadCompose({ MINIO_IMAGE: 'example/s3:1' }).services.minio!.image).toBe('example/s3:1');
  });
});

describe('docker-compose.yml beyond the schema', () => {
  it('has the topology of issue #16: three agents, PostgreSQL, MinIO with a bucket job, Prometheus, Alertmanager, Grafana', () => {
    expect(agents).toEqual(['agent-1', 'agent-2', 'agent-3']);
    for (const name of ['postgres', 'minio', 'minio-init', 'prometheus', 'alertmanager', 'grafana']) {
      expect(compose.services[name], name).toBeDefined();
    }
  });

  it('gives every service an image or a build, images with a pinned tag, and builds this repository\'s Dockerfile', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.image !== undefined || s.build !== undefined, `${name}: image or build`).toBe(true);
      if (s.image !== undefined && s.build === undefined) {
        expect(s.image, `${name}: a tag, not latest`).toMatch(/^[^:]+:(?!latest$)[^:]+$/);
      }
      if (s.build !== undefined) {
        const context = typeof s.build === 'string' ? s.build : (s.build.context ?? '.');
        const file = typeof s.build === 'string' ? 'Dockerfile' : (s.build.dockerfile ?? 'Dockerfile');
        expect(join(REPO, context, file)).toBe(repoPath('Dockerfile'));
        // one image for the three agents, built once
        expect(s.image, name).toBe(compose.services[agents[0]!]!.image);
      }
    }
  });

  it('mounts only paths that exist in the repository, and named volumes that are declared', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      const { binds, named } = mounts(s);
      for (const b of binds) {
        const path = join(REPO, b.source);
        expect(relative(REPO, path).startsWith('..'), `${name}: ${b.source} inside the repository`).toBe(false);
        expect(existsSync(path), `${name}: ${b.source} exists`).toBe(true);
        expect(b.readOnly, `${name}: ${b.source} read-only`).toBe(true);
      }
      for (const v of named) expect(Object.keys(compose.volumes ?? {}), `${name}: volume ${v.volume}`).toContain(v.volume);
    }
  });

  it('publishes each host port once', () => {
    const seen = new Map<number, string>();
    for (const [name, s] of Object.entries(compose.services)) {
      for (const p of publishedPorts(s)) {
        if (p.host === undefined) continue;
        expect(seen.get(p.host), `host port ${p.host} of ${name}`).toBeUndefined();
        seen.set(p.host, name);
      }
    }
    expect(seen.size).toBeGreaterThan(0);
  });

  it('depends only on services that exist, with a health check behind every service_healthy', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [dep, condition] of Object.entries(dependsOn(s))) {
        const target = compose.services[dep];
        expect(target, `${name} depends on ${dep}`).toBeDefined();
        if (condition === 'service_healthy') {
          const own = target!.healthcheck?.test !== undefined && target!.healthcheck.disable !== true;
          const fromImage = target!.build !== undefined && instructions(runtime, 'HEALTHCHECK').length > 0;
          expect(own || fromImage, `${dep} has a health check (${name} waits for it)`).toBe(true);
        }
        if (condition === 'service_completed_successfully') expect(target!.restart, `${dep} runs once`).toBe('no');
      }
    }
    for (const a of agents) {
      expect(dependsOn(compose.services[a]!)).toMatchObject({ postgres: 'service_healthy', 'minio-init': 'service_completed_successfully' });
    }
    expect(compose.services.postgres!.healthcheck?.test).toEqual(['CMD-SHELL', expect.stringContaining('pg_isready')]);
  });

  it('sets only real variables for the agents: `streamhouse start` options and the S3 store\'s', () => {
    const optionVars = new Set(START_OPTIONS.map((o) => o.env));
    const s3Source = readFileSync(repoPath('src/storage/s3/s3-config.ts'), 'utf8');
    for (const a of agents) {
      for (const name of Object.keys(agentEnv(a))) {
        if (name.startsWith('STREAMHOUSE_')) expect(optionVars.has(name), `${a}: ${name} is a start option`).toBe(true);
        else if (name !== 'NODE_ENV') expect(s3Source, `${a}: ${name} is read by src/storage/s3/s3-config.ts`).toMatch(new RegExp(`\\b${name}\\b`));
      }
    }
  });

  it('configures each agent through `streamhouse start`\'s own parser: a cluster on PostgreSQL and S3, distinct ids, reachable listeners', () => {
    const nodeIds = new Set<number>();
    for (const a of agents) {
      const env = agentEnv(a);
      const config = startConfigFrom(env);
      expect(config.metadataUrl).toMatch(/^postgres:\/\//);
      expect(config.storageUrl).toMatch(/^s3:\/\//);
      expect(config.clusterMode).not.toBe('off');
      expect(config.agentId).toBe(a);
      expect(nodeIds.has(config.nodeId), `${a}: node id ${config.nodeId} unique`).toBe(false);
      nodeIds.add(config.nodeId);
      // clients and the other agents reach it by its service name, on the port it listens on,
      // published on the host as the same port
      expect(config.advertisedListener).toEqual({ host: a, port: config.kafkaListener.port });
      expect(config.kafkaListener.host).toBe('0.0.0.0');
      const ports = publishedPorts(compose.services[a]!);
      expect(ports).toContainEqual({ host: config.kafkaListener.port, container: config.kafkaListener.port, protocol: 'tcp' });
      expect(ports.map((p) => p.container)).toEqual(expect.arrayContaining([config.httpPort, config.grpcPort]));
      expect(apiPortOf('http', env)).toBe(config.httpPort);
      expect(kafkaListenerOf(env).port).toBe(config.kafkaListener.port);
    }
  });

  it('points the agents at the compose file\'s PostgreSQL and MinIO, with their credentials and bucket', () => {
    const pgEnv = serviceEnv(compose.services.postgres!);
    const minioEnv = serviceEnv(compose.services.minio!);
    const init = compose.services['minio-init']!;
    const initScript = [...[init.entrypoint ?? []].flat(), ...[init.command ?? []].flat()].join(' ');
    for (const a of agents) {
      const env = agentEnv(a);
      const db = new URL(env.STREAMHOUSE_METADATA_URL!);
      expect(db.hostname).toBe('postgres');
      expect(Number(db.port || 5432)).toBe(5432);
      expect(decodeURIComponent(db.username)).toBe(pgEnv.POSTGRES_USER);
      expect(decodeURIComponent(db.password)).toBe(pgEnv.POSTGRES_PASSWORD);
      expect(db.pathname.slice(1)).toBe(pgEnv.POSTGRES_DB);

      const s3 = s3OptionsFromEnv(env.STREAMHOUSE_STORAGE_URL!, env);
      expect(s3.endpoint).toBe('http://minio:9000');
      expect(s3.forcePathStyle).toBe(true);
      expect(s3.credentials).toEqual({ accessKeyId: minioEnv.MINIO_ROOT_USER, secretAccessKey: minioEnv.MINIO_ROOT_PASSWORD });
      expect(publishedPorts(compose.services.minio!).map((p) => p.container)).toContain(9000);
      // the one-shot job creates exactly this bucket on this MinIO
      expect(initScript).toContain('http://minio:9000');
      expect(initScript).toMatch(new RegExp(`mc mb (--ignore-existing |-p )*local/${s3.bucket}(\\s|$)`));
    }
    expect(serviceEnv(init)).toMatchObject({ MINIO_ROOT_USER: minioEnv.MINIO_ROOT_USER, MINIO_ROOT_PASSWORD: minioEnv.MINIO_ROOT_PASSWORD });
  });
});

describe('Prometheus, Alertmanager and Grafana wiring', () => {
  interface PrometheusConfig {
    rule_files?: string[];
    alerting?: { alertmanagers?: Array<{ static_configs?: Array<{ targets: string[] }> }> };
    scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs?: Array<{ targets: string[] }> }>;
  }
  const prometheus = readYaml<PrometheusConfig>('deploy/prometheus/prometheus.yml');

  /** The repository path mounted at `target` (or at a directory above it) in `service`. */
  function mountedFrom(service: string, target: string): string | undefined {
    for (const b of mounts(compose.services[service]!).binds) {
      if (target === b.target) return join(REPO, b.source);
      if (target.startsWith(`${b.target}/`)) return join(REPO, b.source, target.slice(b.target.length + 1));
    }
    return undefined;
  }

  function flagValue(service: string, flag: string): string | undefined {
    const args = [compose.services[service]!.command ?? []].flat();
    return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  }

  it('Prometheus reads deploy/prometheus/prometheus.yml', () => {
    const config = flagValue('prometheus', '--config.file');
    expect(config).toBeDefined();
    expect(mountedFrom('prometheus', config!)).toBe(repoPath('deploy/prometheus/prometheus.yml'));
  });

  it('loads rules from deploy/prometheus/rules/ (mounted, existing)', () => {
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
    for (const glob of prometheus.rule_files!) {
      const dir = mountedFrom('prometheus', dirname(glob));
      expect(dir).toBe(repoPath('deploy/prometheus/rules'));
      expect(statSync(dir!).isDirectory()).toBe(true);
      for (const f of readdirSync(dir!).filter((n) => n.endsWith('.yml'))) {
        expect(readYaml<{ groups?: unknown[] }>(`deploy/prometheus/rules/${f}`).groups, f).toBeInstanceOf(Array);
      }
    }
  });

  it('scrapes every agent\'s HTTP port (the targets are checked against running agents in compose-topology.test.ts)', () => {
    const job = prometheus.scrape_configs.find((j) => j.job_name === 'streamhouse')!;
    expect(job.metrics_path ?? '/metrics').toBe('/metrics');
    const targets = job.static_configs!.flatMap((c) => c.targets);
    expect(targets.sort()).toEqual(agents.map((a) => `${a}:${apiPortOf('http', agentEnv(a))}`).sort());
  });

  it('sends alerts to the Alertmanager service, which has a receiver for every route', () => {
    const targets = prometheus.alerting!.alertmanagers!.flatMap((a) => a.static_configs!.flatMap((c) => c.targets));
    expect(targets).toHaveLength(1);
    const { host, port } = splitHostPort(targets[0]!);
    expect(compose.services[host]).toBe(compose.services.alertmanager);
    expect(publishedPorts(compose.services.alertmanager!).map((p) => p.container)).toContain(port);
    const config = flagValue('alertmanager', '--config.file');
    expect(mountedFrom('alertmanager', config!)).toBe(repoPath('deploy/alertmanager/alertmanager.yml'));
    const am = readYaml<{ route: { receiver: string }; receivers: Array<{ name: string }> }>('deploy/alertmanager/alertmanager.yml');
    expect(am.receivers.map((r) => r.name)).toContain(am.route.receiver);
  });

  it('provisions Grafana with the Prometheus service as data source and the dashboards directory', () => {
    expect(mountedFrom('grafana', '/etc/grafana/provisioning')).toBe(repoPath('deploy/grafana/provisioning'));
    const ds = readYaml<{ datasources: Array<{ type: string; url: string }> }>('deploy/grafana/provisioning/datasources/prometheus.yml');
    expect(ds.datasources).toHaveLength(1);
    expect(ds.datasources[0]!.type).toBe('prometheus');
    const url = new URL(ds.datasources[0]!.url);
    expect(compose.services[url.hostname]).toBe(compose.services.prometheus);
    expect(publishedPorts(compose.services.prometheus!).map((p) => String(p.container))).toContain(url.port);
    const dashboards = readYaml<{ providers: Array<{ type: string; options: { path: string } }> }>('deploy/grafana/provisioning/dashboards/dashboards.yml');
    for (const p of dashboards.providers) {
      expect(p.type).toBe('file');
      const dir = mountedFrom('grafana', p.options.path);
      expect(dir).toBe(repoPath('deploy/grafana/dashboards'));
      expect(statSync(dir!).isDirectory()).toBe(true);
      for (const f of readdirSync(dir!).filter((n) => n.endsWith('.json'))) {
        expect(() => JSON.parse(readFileSync(join(dir!, f), 'utf8')), f).not.toThrow();
      }
    }
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerignore = readFileSync(repoPath('.dockerignore'), 'utf8');

  it('builds in one stage and runs on the same base with production dependencies only', () => {
    const byName = new Map(dockerfile.stages.map((s) => [s.name, s]));
    expect([...byName.keys()]).toEqual(['build', 'deps', 'runtime']);
    expect(new Set(dockerfile.stages.map((s) => s.base))).toEqual(new Set(['node:20-bookworm-slim']));
    const runs = (stage: string) => instructions(byName.get(stage)!, 'RUN').map((r) => r.args).join(' && ');
    expect(runs('build')).toMatch(/npm ci\b/);
    expect(runs('build')).toContain('npm run build');
    expect(runs('deps')).toMatch(/npm ci --omit=dev/);
    expect(runs('runtime')).not.toMatch(/npm (ci|install)/);
    const fromStages = copies(runtime).filter((c) => c.from !== undefined);
    expect(fromStages).toEqual([
      { from: 'deps', sources: ['/app/node_modules'], dest: 'node_modules' },
      { from: 'build', sources: ['/src/dist'], dest: 'dist' },
    ]);
  });

  it('copies only context files that exist and that .dockerignore lets through', () => {
    const sources = dockerfile.stages.flatMap((s) => copies(s).filter((c) => c.from === undefined).flatMap((c) => c.sources));
    expect(sources.length).toBeGreaterThan(0);
    const walk = (path: string): string[] =>
      statSync(repoPath(path)).isDirectory() ? readdirSync(repoPath(path)).flatMap((n) => walk(`${path}/${n}`)) : [path];
    for (const source of sources) {
      expect(existsSync(repoPath(source)), source).toBe(true);
      expect(dockerignoreAllows(source, dockerignore), `${source} in the build context`).toBe(true);
      // each file the build needs below a copied directory (tests are left out on purpose)
      for (const f of walk(source).filter((p) => !p.endsWith('.test.ts'))) expect(dockerignoreAllows(f, dockerignore), f).toBe(true);
    }
    // and keeps the host's build output and dependencies out
    for (const path of ['node_modules/x', 'dist/index.js', '.git/HEAD', 'data/metadata.db', 'src/a.test.ts', 'compat-tests/x.ts']) {
      expect(dockerignoreAllows(path, dockerignore), path).toBe(false);
    }
  });

  it('runs as the unprivileged node user with the default ports exposed', () => {
    expect(instructions(runtime, 'USER').map((u) => u.args)).toEqual(['node']);
    const exposed = instructions(runtime, 'EXPOSE').flatMap((e) => e.args.split(' ')).map(Number);
    const defaults = [kafkaListenerOf({}).port, apiPortOf('http', {}), apiPortOf('grpc', {})];
    expect(exposed).toEqual(defaults);
    expect(defaults).toEqual([9092, 8080, 50051]);
  });

  it('starts `streamhouse start` and checks /ready with node (the slim image has no curl)', () => {
    expect(instructions(runtime, 'ENTRYPOINT').map((e) => execForm(e.args))).toEqual([['streamhouse', 'start']]);
    expect(instructions(runtime, 'RUN').map((r) => r.args).join(' ')).toContain('ln -s /app/dist/cli/streamhouse.js /usr/local/bin/streamhouse');
    const [health] = instructions(runtime, 'HEALTHCHECK');
    const cmd = /^(?:--\S+\s+)*CMD\s+(\[.*\])$/.exec(health!.args);
    expect(cmd, health!.args).not.toBeNull();
    const args = execForm(cmd![1]!);
    expect(args[0]).toBe('node');
    // the script is copied to the path the check runs
    const copied = copies(runtime).find((c) => c.sources.includes(args[1]!.replace(`${workdir(runtime)}/`, '')));
    expect(copied, args[1]).toBeDefined();
    expect(readFileSync(repoPath(args[1]!.replace(`${workdir(runtime)}/`, '')), 'utf8')).toContain('/ready');
  });

  it('sets only real start options in the image environment, with a data directory the node user owns', () => {
    const optionVars = new Set(START_OPTIONS.map((o) => o.env));
    for (const name of Object.keys(imageEnv)) if (name !== 'NODE_ENV') expect(optionVars.has(name), name).toBe(true);
    expect(imageEnv.STREAMHOUSE_DATA_DIR).toBe('/var/lib/streamhouse');
    expect(instructions(runtime, 'RUN').map((r) => r.args).join(' ')).toContain('chown node:node /var/lib/streamhouse');
  });
});
