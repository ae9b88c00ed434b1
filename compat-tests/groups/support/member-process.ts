import { spawn, type ChildProcess } from 'node:child_process';

/** A consumed record as a member process reports it. */
export interface ConsumedRecord {
  readonly member: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

/** What a member process tells the test, one event per output line (see the parsers). */
export type MemberEvent =
  | { readonly type: 'assigned'; readonly partitions: readonly number[] }
  | { readonly type: 'record'; readonly partition: number; readonly offset: number; readonly value: string }
  | { readonly type: 'info'; readonly data: Record<string, unknown> };

export type LineParser = (line: string, stream: 'stdout' | 'stderr') => MemberEvent | undefined;

/**
 * JSON lines printed by our member scripts: {"type":"assigned","partitions":[...]} carries
 * the member's whole current assignment, {"type":"record",...} one processed record.
 */
export const jsonLines: LineParser = (line, stream) => {
  if (stream !== 'stdout' || !line.startsWith('{')) return undefined;
  const e = JSON.parse(line) as { type: string; partitions?: number[]; partition?: number; offset?: number; value?: string };
  if (e.type === 'assigned') return { type: 'assigned', partitions: [...(e.partitions ?? [])].sort((a, b) => a - b) };
  if (e.type === 'record') return { type: 'record', partition: e.partition!, offset: e.offset!, value: e.value! };
  return { type: 'info', data: e as Record<string, unknown> };
};

/** One group member running in its own process, so that it can be killed like a crash. */
export class MemberProcess {
  readonly events: MemberEvent[] = [];
  private output = '';
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    parse: LineParser,
  ) {
    const feed = (stream: 'stdout' | 'stderr') => {
      let pending = '';
      return (chunk: Buffer) => {
        const text = chunk.toString();
        this.output += stream === 'stderr' ? text.replace(/^/gm, '! ') : text;
        pending += text;
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (line.length === 0) continue;
          const e = parse(line, stream);
          if (e) this.events.push(e);
        }
      };
    };
    child.stdout!.on('data', feed('stdout'));
    child.stderr!.on('data', feed('stderr'));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  static spawn(name: string, cmd: string, args: readonly string[], parse: LineParser = jsonLines, env: Record<string, string> = {}): MemberProcess {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new MemberProcess(name, child, parse);
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** Latest full assignment, undefined before the first one. */
  assignment(): readonly number[] | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.type === 'assigned') return e.partitions;
    }
    return undefined;
  }

  assignmentCount(): number {
    return this.events.filter((e) => e.type === 'assigned').length;
  }

  records(): ConsumedRecord[] {
    return this.events.flatMap((e) => (e.type === 'record' ? [{ member: this.name, partition: e.partition, offset: e.offset, value: e.value }] : []));
  }

  log(): string {
    return this.output;
  }

  /** Asks the member to leave cleanly and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | null> {
    if (this.alive) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A crash: SIGKILL, no goodbye to the coordinator. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export { waitUntil } from '../../../test-kit/wait-until.js';

/**
 * The live members split `partitionCount` partitions between them: every member has an
 * assignment, no partition twice, none missing.
 */
export function isBalanced(members: readonly MemberProcess[], partitionCount: number): boolean {
  const live = members.filter((m) => m.alive);
  const all: number[] = [];
  for (const m of live) {
    const a = m.assignment();
    if (a === undefined) return false;
    all.push(...a);
  }
  all.sort((a, b) => a - b);
  return all.length === partitionCount && all.every((p, i) => p === i);
}

export function describeMembers(members: readonly MemberProcess[]): string {
  return members.map((m) => `${m.name} (${m.alive ? 'alive' : 'gone'}): ${JSON.stringify(m.assignment())}\n${m.log().split('\n').slice(-15).join('\n')}`).join('\n---\n');
}
