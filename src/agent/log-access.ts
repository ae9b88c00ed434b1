import type { LogService } from './log-service.js';
import type { AgentCore } from './agent-core.js';

/** Key under which the agent installs its LogService in `services.extensions`. */
export const LOG_EXTENSION = 'log';

/**
 * The agent's log. A broker started without one cannot serve data APIs: the error closes
 * the connection (the handler fails) instead of answering with made-up offsets.
 */
export function getLog(services: AgentCore): LogService {
  const log = services.extensions.get(LOG_EXTENSION);
  if (log === undefined || log === null) {
    throw new Error(`no LogService installed: services.extensions has no '${LOG_EXTENSION}' entry`);
  }
  return log as LogService;
}
