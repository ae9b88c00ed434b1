// The PEM files of the TLS listeners, read at start and again every ssl reload interval on
// one PeriodicTask: when a file's bytes changed and the new set loads (the key matches the
// certificate, the passphrase opens it), listeners are handed the new material and use it
// for new connections; a set that does not load is reported and the old one kept. Errors
// name the files, never their contents or the passphrase.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { PeriodicTask } from '../periodic-task.js';
import type { SslConfig } from '../config/security-config.js';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly passphrase?: string;
  readonly ca?: Buffer;
  /** SHA-256 over the files, to tell versions apart in logs. */
  readonly fingerprint: string;
}

export class TlsFilesError extends Error {
  override name = 'TlsFilesError';
}

function material(cfg: SslConfig, cert: Buffer, key: Buffer, ca: Buffer | undefined): TlsMaterial {
  const fingerprint = createHash('sha256').update(cert).update(key).update(ca ?? Buffer.alloc(0)).digest('hex').slice(0, 16);
  const m: TlsMaterial = { cert, key, ...(cfg.keyPassword !== undefined ? { passphrase: cfg.keyPassword } : {}), ...(ca ? { ca } : {}), fingerprint };
  try {
    createSecureContext({ cert: m.cert, key: m.key, ...(m.passphrase !== undefined ? { passphrase: m.passphrase } : {}), ...(m.ca ? { ca: m.ca } : {}) });
  } catch (err) {
    // OpenSSL's reason only (e.g. "key values mismatch", "bad decrypt"): no file contents
    const reason = err instanceof Error ? err.message.split('\n')[0] : 'invalid';
    throw new TlsFilesError(`TLS files ${cfg.certificateLocation}, ${cfg.keyLocation}${cfg.caLocation ? `, ${cfg.caLocation}` : ''} do not load: ${reason}`);
  }
  return m;
}

function readOrFail(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsFilesError(`cannot read TLS file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

export class TlsFiles {
  private current: TlsMaterial;
  private readonly listeners: Array<(m: TlsMaterial) => void> = [];
  private readonly task: PeriodicTask<boolean>;

  /** Reads the files now; throws TlsFilesError when they cannot be read or do not load. */
  constructor(
    private readonly cfg: SslConfig,
    private readonly logger: Logger,
  ) {
    this.current = material(cfg, readOrFail(cfg.certificateLocation), readOrFail(cfg.keyLocation), cfg.caLocation ? readOrFail(cfg.caLocation) : undefined);
    this.task = new PeriodicTask({ run: () => this.reload(), intervalMs: cfg.reloadIntervalMs, logger, failureMessage: 'reloading the TLS files failed; the previous ones stay in use' });
  }

  get material(): TlsMaterial {
    return this.current;
  }

  get config(): SslConfig {
    return this.cfg;
  }

  /** Called with the new material after each successful reload that changed something. */
  onChange(listener: (m: TlsMaterial) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Reads the files again; true when new material was taken. Throws (keeping the old) when it does not load. */
  async reload(): Promise<boolean> {
    const [cert, key, ca] = await Promise.all([
      readFile(this.cfg.certificateLocation),
      readFile(this.cfg.keyLocation),
      this.cfg.caLocation ? readFile(this.cfg.caLocation) : Promise.resolve(undefined),
    ]).catch((err: NodeJS.ErrnoException) => {
      throw new TlsFilesError(`cannot read the TLS files: ${err.code ?? 'error'} ${err.path ?? ''}`.trim());
    });
    const same = cert.equals(this.current.cert) && key.equals(this.current.key) && ((ca === undefined && this.current.ca === undefined) || (ca !== undefined && this.current.ca !== undefined && ca.equals(this.current.ca)));
    if (same) return false;
    const next = material(this.cfg, cert, key, ca);
    const previous = this.current.fingerprint;
    this.current = next;
    for (const l of this.listeners) l(next);
    this.logger.info({ previous, fingerprint: next.fingerprint, certificate: this.cfg.certificateLocation }, 'TLS files changed: new connections use the new certificate');
    return true;
  }
}
