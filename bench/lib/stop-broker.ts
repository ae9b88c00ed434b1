import type { LaunchedBroker } from './broker-launcher.js';

/**
 * LaunchedBroker.cleanup(), except that a broker whose graceful stop hangs is killed after
 * `graceMs`, so a failed run never leaves the script waiting forever (builds before 9e81568
 * did not finish a SIGTERM while any client connection stayed open).
 */
export async function stopBroker(broker: LaunchedBroker, graceMs = 20000): Promise<void> {
  const timer = setTimeout(() => {
    console.error(`broker pid ${broker.pid()} did not stop within ${graceMs} ms of SIGTERM; killing it`);
    try {
      process.kill(broker.pid(), 'SIGKILL');
    } catch {
      // already gone
    }
  }, graceMs);
  try {
    await broker.cleanup();
  } finally {
    clearTimeout(timer);
  }
}
