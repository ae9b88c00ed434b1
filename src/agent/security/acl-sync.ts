// Keeps the authorizer's bindings in step with the metadata store: a PeriodicTask reads the
// store's ACL version every pollIntervalMs and reloads the bindings only when it moved, so
// every agent applies a change made through any agent within about one interval.

import type { Logger } from 'pino';
import type { AclStore, StoredAclBinding } from '../../metadata/metadata-store.js';
import { PeriodicTask } from '../periodic-task.js';
import { bindingProblem, type AclBinding } from './acl.js';
import type { Authorizer } from './authorizer.js';

export const DEFAULT_ACL_POLL_INTERVAL_MS = 250;

export interface AclSyncOptions {
  readonly store: AclStore;
  readonly authorizer: Authorizer;
  readonly logger: Logger;
  readonly pollIntervalMs?: number;
}

/** The stored binding as the authorizer's, or undefined for one it cannot apply. */
export function toAclBinding(b: StoredAclBinding): AclBinding | undefined {
  return bindingProblem(b) === undefined ? (b as AclBinding) : undefined;
}

export class AclSync {
  private loadedVersion: number | undefined;
  private readonly task: PeriodicTask<boolean>;

  constructor(private readonly opts: AclSyncOptions) {
    this.task = new PeriodicTask({ run: () => this.pass(), intervalMs: opts.pollIntervalMs ?? DEFAULT_ACL_POLL_INTERVAL_MS, logger: opts.logger, failureMessage: 'reloading ACLs failed' });
  }

  /** Loads the bindings once (before the listeners open), then keeps polling. */
  async start(): Promise<void> {
    await this.task.runOnce();
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** Reloads now when the version moved (after this agent changed ACLs); true when it reloaded. */
  refresh(): Promise<boolean> {
    return this.task.runOnce();
  }

  private async pass(): Promise<boolean> {
    const version = await this.opts.store.version();
    if (version === this.loadedVersion) return false;
    const stored = await this.opts.store.list();
    const bindings: AclBinding[] = [];
    for (const s of stored) {
      const b = toAclBinding(s);
      if (b) bindings.push(b);
      else this.opts.logger.warn({ binding: s }, 'ignoring a stored ACL binding this version cannot apply');
    }
    this.opts.authorizer.replace(bindings);
    // the version read before the list: a change in between is picked up next pass
    this.loadedVersion = version;
    return true;
  }
}
