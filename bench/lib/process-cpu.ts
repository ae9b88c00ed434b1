import { readFileSync } from 'node:fs';

/** Linux USER_HZ; /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system, all threads) a process has used so far, from /proc. */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may contain spaces; fields after it are space separated
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Measures how busy a process was between start() and the returned function's call. */
export function cpuMeter(pid: number): () => number | undefined {
  const cpu0 = readCpuSeconds(pid);
  const t0 = performance.now();
  return () => {
    const cpu1 = readCpuSeconds(pid);
    if (cpu0 === undefined || cpu1 === undefined) return undefined;
    return (cpu1 - cpu0) / ((performance.now() - t0) / 1000);
  };
}
