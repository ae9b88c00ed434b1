import { readFileSync } from 'node:fs';

/** Resident set size of a process in bytes, from /proc (Linux only); undefined once it is gone. */
export function readRss(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface RssSummary {
  readonly pid: number;
  readonly samples: number;
  readonly startBytes: number;
  readonly peakBytes: number;
  readonly lastBytes: number;
}

/**
 * Samples a process's VmRSS on a timer. The timer is unref'd so it never keeps a script
 * alive; call stop() for the summary.
 */
export class RssSampler {
  private readonly timer: NodeJS.Timeout;
  private samples = 0;
  private start = 0;
  private peak = 0;
  private last = 0;

  constructor(
    private pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Follows a restarted process (the peak carries over). */
  retarget(pid: number): void {
    this.pid = pid;
    this.sample();
  }

  private sample(): void {
    const rss = readRss(this.pid);
    if (rss === undefined) return;
    if (this.samples === 0) this.start = rss;
    this.samples++;
    this.last = rss;
    if (rss > this.peak) this.peak = rss;
  }

  stop(): RssSummary {
    clearInterval(this.timer);
    this.sample();
    return { pid: this.pid, samples: this.samples, startBytes: this.start, peakBytes: this.peak, lastBytes: this.last };
  }
}

export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}
