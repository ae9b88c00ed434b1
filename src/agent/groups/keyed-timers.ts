/**
 * Named one-shot timers: setting a key replaces its previous timer, which is how the
 * coordinator reschedules session expirations on every heartbeat. Timers are unref'd so
 * that a pending expiration never keeps the process alive.
 */
export class KeyedTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly onError: (err: unknown, key: string) => void) {}

  set(key: string, delayMs: number, fn: () => void): void {
    this.clear(key);
    const timer = setTimeout(() => {
      if (this.timers.get(key) !== timer) return;
      this.timers.delete(key);
      try {
        fn();
      } catch (err) {
        this.onError(err, key);
      }
    }, Math.max(0, delayMs));
    timer.unref?.();
    this.timers.set(key, timer);
  }

  has(key: string): boolean {
    return this.timers.has(key);
  }

  clear(key: string): void {
    const timer = this.timers.get(key);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
  }

  clearAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  get size(): number {
    return this.timers.size;
  }
}
