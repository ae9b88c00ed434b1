import { PeriodicTask } from './periodic-task.js';
import type { Logger } from 'pino';
import type { MetadataStore } from '../metadata/metadata-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import { SEGMENT_KEY_SUFFIX } from '../storage/segment/segment-key.js';

export interface ObjectGcOptions {
  readonly objects: ObjectStore;
  readonly metadata: MetadataStore;
  readonly logger: Logger;
  /** Objects younger than this are never deleted (an upload may still be committing). */
  readonly graceMs: number;
  readonly intervalMs: number;
  /** Keys currently being uploaded or committed by this agent. */
  readonly inFlight: () => ReadonlySet<string>;
}

/**
 * Deletes segment objects that no chunk references: leftovers of a crash between upload and
 * commit, and objects orphaned by topic deletion or retention. Runs in the background.
 */
export class ObjectGarbageCollector {
  private readonly task: PeriodicTask<number>;
  deletedTotal = 0;

  constructor(private readonly opts: ObjectGcOptions) {
    this.task = new PeriodicTask({ run: () => this.collect(), intervalMs: opts.intervalMs, firstDelayMs: Math.min(opts.intervalMs, 5000), logger: opts.logger, failureMessage: 'object garbage collection failed' });
  }

  start(): void {
    this.task.start();
  }

  async stop(): Promise<void> {
    await this.task.stop();
  }

  /** One pass; returns how many objects it deleted. */
  runOnce(): Promise<number> {
    return this.task.runOnce();
  }

  private async collect(): Promise<number> {
    const cutoff = Date.now() - this.opts.graceMs;
    const referenced = await this.opts.metadata.objects.listReferencedKeys();
    const inFlight = this.opts.inFlight();
    let deleted = 0;
    for await (const obj of this.opts.objects.list()) {
      if (!obj.key.endsWith(SEGMENT_KEY_SUFFIX)) continue;
      if (referenced.has(obj.key) || inFlight.has(obj.key)) continue;
      if (obj.lastModified.getTime() > cutoff) continue;
      await this.opts.objects.delete(obj.key);
      deleted++;
    }
    for (const key of await this.opts.metadata.objects.listUnreferenced(cutoff)) {
      if (inFlight.has(key)) continue;
      await this.opts.objects.delete(key);
      await this.opts.metadata.objects.forget(key);
    }
    if (deleted > 0) this.opts.logger.info({ deleted }, 'deleted unreferenced objects');
    this.deletedTotal += deleted;
    return deleted;
  }
}
