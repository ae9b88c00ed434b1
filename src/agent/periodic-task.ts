import type { Logger } from 'pino';

export interface PeriodicTaskOptions<T> {
  /** One pass of the work. */
  readonly run: () => Promise<T>;
  readonly intervalMs: number;
  /** Delay of the first pass after start (default: intervalMs). */
  readonly firstDelayMs?: number;
  readonly logger: Logger;
  /** Logged (warn) when a pass fails; the next pass runs on schedule anyway. */
  readonly failureMessage: string;
}

/**
 * A background loop: one pass every interval, never two at once (a pass asked for while one
 * runs joins it), the next scheduled only after the last finished, and a stop that waits for
 * the pass in flight. The compactor, retention and the object GC run on it.
 */
export class PeriodicTask<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T> | undefined;

  constructor(private readonly opts: PeriodicTaskOptions<T>) {}

  start(): void {
    const tick = () => {
      this.runOnce()
        .catch((err: unknown) => this.opts.logger.warn({ err }, this.opts.failureMessage))
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.opts.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, this.opts.firstDelayMs ?? this.opts.intervalMs).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass now, or the one already running. */
  runOnce(): Promise<T> {
    this.running ??= this.opts.run().finally(() => (this.running = undefined));
    return this.running;
  }
}
