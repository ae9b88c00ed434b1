import { closeSync, mkdirSync, openSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** A directory the agent cannot use; the message is one line that names the path. */
export class LocalDirectoryError extends Error {
  override name = 'LocalDirectoryError';
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** Why a system call on `path` failed, in words (the errno code in brackets). */
function reason(err: unknown, path: string): string {
  const code = errnoCode(err);
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `permission denied at ${path} (${code})`;
    case 'EROFS':
      return `${path} is on a read-only file system (EROFS)`;
    case 'ENAMETOOLONG':
      return `a name in it is longer than the file system allows (ENAMETOOLONG)`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left for ${path} (${code})`;
    case 'ELOOP':
      return `too many symbolic links at ${path} (ELOOP)`;
    case 'EEXIST':
      return `${path} exists and is not a directory (EEXIST)`;
    case 'ENOENT':
      // the parent exists (it was checked or just created): the file system refuses (procfs does this)
      return `the file system of ${dirname(path)} does not allow creating ${path} (ENOENT)`;
    case undefined:
      return err instanceof Error ? err.message : String(err);
    default:
      return `${path}: ${code}`;
  }
}

/**
 * The directories of `dir` that do not exist yet, outermost first. Throws when an existing
 * part of the path is not a directory or cannot be looked at.
 */
function missingDirectories(dir: string, what: string): string[] {
  const missing: string[] = [];
  let current = dir;
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(current).isDirectory();
    } catch (err) {
      const code = errnoCode(err);
      // ENOTDIR: some parent is a file; walk up to report which one
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new LocalDirectoryError(`cannot use ${what}: ${reason(err, current)}`);
      missing.unshift(current);
      const parent = dirname(current);
      if (parent === current) throw new LocalDirectoryError(`cannot use ${what}: ${reason(err, current)}`);
      current = parent;
      continue;
    }
    if (isDirectory) return missing;
    throw new LocalDirectoryError(
      current === dir ? `cannot use ${what}: it exists and is not a directory` : `cannot create ${what}: ${current} is not a directory`,
    );
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Removes what `ensureDirectory` created, innermost first; best effort. */
function removeCreated(created: readonly string[]): void {
  for (const dir of [...created].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty (someone else wrote there) or already gone: leave it
    }
  }
}

/** Creates and removes a file in `dir` to learn whether the agent can write there. */
function probeWritable(dir: string, what: string): void {
  const probe = join(dir, `.streamhouse-write-check-${process.pid}-${Date.now()}`);
  let fd: number;
  try {
    fd = openSync(probe, 'wx');
  } catch (err) {
    const code = errnoCode(err);
    const why = code === 'ENOENT' ? `the file system does not allow creating files there (ENOENT)` : reason(err, dir);
    throw new LocalDirectoryError(`cannot write to ${what}: ${why}`);
  }
  closeSync(fd);
  try {
    unlinkSync(probe);
  } catch {
    // written but not removable: still usable
  }
}

/**
 * `mkdir -p` that always ends: each missing directory is created on its own, outermost first,
 * and the first failure stops it. Node's `mkdir(path, { recursive: true })` answers an ENOENT
 * by creating the parent and retrying; when the parent exists and the file system still says
 * ENOENT (procfs does, for any new name) it retries forever. On failure, the directories this
 * call created are removed again, and the directory must accept a new file. Throws
 * LocalDirectoryError (one line naming `label` and `dir`); returns the directories it created.
 */
export function ensureDirectory(dir: string, label: string): string[] {
  const absolute = resolve(dir);
  const what = `${label} ${dir}`;
  const created: string[] = [];
  try {
    for (const missing of missingDirectories(absolute, what)) {
      try {
        mkdirSync(missing);
        created.push(missing);
      } catch (err) {
        // created in between by someone else: fine if it is a directory
        if (errnoCode(err) === 'EEXIST' && isDirectory(missing)) continue;
        throw new LocalDirectoryError(`cannot create ${what}: ${reason(err, missing)}`);
      }
    }
    probeWritable(absolute, what);
  } catch (err) {
    removeCreated(created);
    throw err;
  }
  return created;
}

/** One directory a store will write to and how to name it in a message ("data directory"). */
export interface LocalDirectory {
  readonly dir: string;
  readonly label: string;
}

/**
 * Ensures every directory in order; when one fails, the ones created before it are removed
 * too and its LocalDirectoryError is thrown.
 */
export function prepareLocalDirectories(dirs: readonly LocalDirectory[]): void {
  const created: string[] = [];
  try {
    for (const { dir, label } of dirs) created.push(...ensureDirectory(dir, label));
  } catch (err) {
    removeCreated(created);
    throw err;
  }
}
