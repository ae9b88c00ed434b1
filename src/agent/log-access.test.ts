import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchHandler } from '../broker/handlers/fetch.js';
import { LOG_EXTENSION, getLog } from './log-access.js';
import { callHandler, handlerKit, type HandlerKit } from '../broker/handlers/test-support/handler-kit.js';

describe('getLog', () => {
  let kit: HandlerKit;

  beforeEach(async () => {
    kit = await handlerKit();
  });
  afterEach(async () => {
    await kit.close();
  });

  it("returns the LogService installed under 'log'", () => {
    expect(getLog(kit.services)).toBe(kit.log);
  });

  it('fails clearly when no log is installed, so data APIs fail instead of inventing offsets', async () => {
    kit.services.extensions.delete(LOG_EXTENSION);
    expect(() => getLog(kit.services)).toThrow("no LogService installed: services.extensions has no 'log' entry");
    await expect(callHandler(kit, fetchHandler, 12, { topics: [] })).rejects.toThrow('no LogService installed');
  });
});
