// Whether this agent can serve (HTTP /ready): a set of named checks, each answering undefined
// when fine or a short reason when not. Checks run side by side with a time limit, so a store
// that hangs reads as "not ready" instead of a probe that never answers, and a check still in
// progress from an earlier probe is joined instead of being started again.

export type ReadinessCheck = () => Promise<string | undefined> | string | undefined;

export interface ReadinessReport {
  readonly ready: boolean;
  /** Names of the checks that failed, sorted. */
  readonly notReady: string[];
  /** Every check: "ok" or why not. */
  readonly checks: Record<string, string>;
}

/** How long one check may take before it counts as failed. */
const DEFAULT_CHECK_TIMEOUT_MS = 2000;

export class ReadinessProbe {
  private readonly running = new Map<string, Promise<string | undefined>>();
  /** The last report and performance.now() when it was complete. */
  private last: { readonly report: ReadinessReport; readonly at: number } | undefined;

  constructor(
    private readonly checks: ReadonlyMap<string, ReadinessCheck>,
    private readonly timeoutMs = DEFAULT_CHECK_TIMEOUT_MS,
  ) {}

  /**
   * Runs the checks, or, with `maxAgeMs`, answers with the last report if it completed at
   * most that long ago (the readiness gauge of /metrics: a scrape does not probe both stores
   * again right after GET /ready did, or the previous scrape).
   */
  async report(maxAgeMs = 0): Promise<ReadinessReport> {
    if (this.last !== undefined && maxAgeMs > 0 && performance.now() - this.last.at <= maxAgeMs) return this.last.report;
    const names = [...this.checks.keys()];
    const results = await Promise.all(names.map((name) => this.run(name)));
    const checks: Record<string, string> = {};
    const notReady: string[] = [];
    names.forEach((name, i) => {
      const problem = results[i];
      checks[name] = problem ?? 'ok';
      if (problem !== undefined) notReady.push(name);
    });
    notReady.sort();
    const report = { ready: notReady.length === 0, notReady, checks };
    this.last = { report, at: performance.now() };
    return report;
  }

  private run(name: string): Promise<string | undefined> {
    let pending = this.running.get(name);
    if (!pending) {
      const check = this.checks.get(name)!;
      pending = (async () => check())()
        .catch((err: unknown) => (err instanceof Error ? err.message : String(err)) || 'failed')
        .finally(() => this.running.delete(name));
      this.running.set(name, pending);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${this.timeoutMs} ms`), this.timeoutMs);
      timer.unref();
    });
    return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
  }
}
