/** The broker's Prometheus counters that explain a produce run: flush count, sizes and times. */
export interface FlushMetrics {
  readonly flushes: number;
  readonly flushSeconds: number;
  readonly commitSeconds: number;
  readonly bytesWritten: number;
}

export async function scrapeFlushMetrics(httpBase: string): Promise<FlushMetrics | undefined> {
  try {
    const res = await fetch(`${httpBase}/metrics`);
    if (res.status !== 200) return undefined;
    const text = await res.text();
    const value = (name: string): number => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };
    return {
      flushes: value('streamhouse_flush_duration_seconds_count'),
      flushSeconds: value('streamhouse_flush_duration_seconds_sum'),
      commitSeconds: value('streamhouse_commit_duration_seconds_sum'),
      bytesWritten: value('streamhouse_object_bytes_written_total'),
    };
  } catch {
    return undefined;
  }
}

/** What happened between two scrapes, as one line. */
export function describeFlushes(before: FlushMetrics, after: FlushMetrics, seconds: number): string {
  const n = after.flushes - before.flushes;
  if (n <= 0) return 'no flushes';
  const bytes = after.bytesWritten - before.bytesWritten;
  const flushMs = ((after.flushSeconds - before.flushSeconds) / n) * 1000;
  const commitMs = ((after.commitSeconds - before.commitSeconds) / n) * 1000;
  return `${(n / seconds).toFixed(1)} flushes/s of ${(bytes / n / 1048576).toFixed(2)} MiB on average; flush (close to commit) ${flushMs.toFixed(1)} ms, of which metadata commit ${commitMs.toFixed(1)} ms`;
}

/** Node's own view of the broker's memory (prom-client default metrics). */
export interface NodeMemory {
  readonly heapUsed: number;
  readonly external: number;
  readonly rss: number;
}

export async function scrapeNodeMemory(httpBase: string): Promise<NodeMemory | undefined> {
  try {
    const res = await fetch(`${httpBase}/metrics`);
    if (res.status !== 200) return undefined;
    const text = await res.text();
    const value = (name: string): number => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
    return {
      heapUsed: value('streamhouse_nodejs_heap_size_used_bytes'),
      external: value('streamhouse_nodejs_external_memory_bytes'),
      rss: value('streamhouse_process_resident_memory_bytes'),
    };
  } catch {
    return undefined;
  }
}
