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
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  deletedTotal = 0;

  constructor(private readonly opts: ObjectGcOptions) {}

  start(): void {
    const tick = () => {
      this.runOnce()
        .catch((err: unknown) => this.opts.logger.warn({ err }, 'object garbage collection failed'))
        .finally(() => {
          if (this.timer !== undefined) this.timer = setTimeout(tick, this.opts.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, Math.min(this.opts.intervalMs, 5000)).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => 0);
  }

  /** One pass; returns how many objects it deleted. */
  runOnce(): Promise<number> {
    this.running ??= this.collect().finally(() => (this.running = undefined));
    return this.running;
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
