import { InvalidArgumentError, type Command } from 'commander';
import { resolveAddress } from '../../grpc/client/address.js';
import { stdout, type Out } from './output.js';

/** What every command needs: where the broker is, how to print, how long to wait. */
export interface CliContext {
  readonly address: string;
  readonly json: boolean;
  readonly timeoutMs: number;
  readonly out: Out;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

export function contextOf(cmd: Command): CliContext {
  const o = cmd.optsWithGlobals<{ addr?: string; json?: boolean; timeout?: number }>();
  return { address: resolveAddress(o.addr), json: o.json === true, timeoutMs: o.timeout ?? DEFAULT_TIMEOUT_MS, out: stdout };
}

/** A commander parser for an integer option or argument in [min, max]. */
export function intArg(what: string, min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${what} must be an integer, got "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${what} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

/** Collects a repeatable option into a list. */
export function collect<T>(parse: (v: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), parse(value)];
}

/** Reads key=value. */
export function keyValue(what: string): (value: string) => [string, string] {
  return (value) => {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`${what} must look like key=value, got "${value}"`);
    return [value.slice(0, eq), value.slice(eq + 1)];
  };
}
