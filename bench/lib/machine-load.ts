import { readFileSync } from 'node:fs';

/**
 * How contended the machine is right now: the 1-minute load average and the share of the
 * last 10 s in which some runnable task waited for a CPU (/proc/pressure/cpu, "some avg10").
 * Numbers measured while other processes compete for the 2 cores must say so.
 */
export interface MachineLoad {
  readonly loadAverage1m: number;
  readonly cpuPressurePct: number | null;
}

export function machineLoad(): MachineLoad {
  const loadAverage1m = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  let cpuPressurePct: number | null = null;
  try {
    const m = /^some avg10=([0-9.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    if (m) cpuPressurePct = Number(m[1]);
  } catch {
    // kernels without PSI
  }
  return { loadAverage1m, cpuPressurePct };
}

export function describeLoad(l: MachineLoad): string {
  return `load average ${l.loadAverage1m.toFixed(2)}${l.cpuPressurePct !== null ? `, CPU pressure ${l.cpuPressurePct.toFixed(0)}%` : ''}`;
}
