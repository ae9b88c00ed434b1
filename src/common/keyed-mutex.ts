/**
 * Runs work for one key at a time, in the order `run` was called; different keys do not wait
 * for each other. The turn is taken synchronously when `run` is called, so callers that call
 * it in arrival order are served in arrival order, whatever their work awaits.
 */
export class KeyedMutex<K> {
  private readonly tails = new Map<K, Promise<void>>();

  run<T>(key: K, work: () => Promise<T> | T): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous ? previous.then(work) : Promise.resolve().then(work);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running (for tests and leak checks). */
  get size(): number {
    return this.tails.size;
  }
}
