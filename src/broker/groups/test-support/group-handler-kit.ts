import { decodeResponse, encodeResponse, type ApiKey, type RequestOf, type ResponseOf } from '../../../protocol/api-codec.js';
import type { BrokerConfig } from '../../../agent/config/broker-config.js';
import type { ApiHandler } from '../../handler.js';
import { answered, callHandler, handlerKit, type HandlerKit } from '../../handlers/test-support/handler-kit.js';
import type { GroupCoordinator, GroupCoordinatorOptions } from '../../../agent/groups/group-coordinator.js';
import { coordinatorHarness, type TestLocator } from '../../../agent/groups/test-support/coordinator-harness.js';

export interface GroupHandlerKit extends HandlerKit {
  readonly coordinator: GroupCoordinator;
  readonly locator: TestLocator;
}

/** The handler kit (real SQLite, FakeLog) with a started group coordinator installed. */
export async function groupHandlerKit(coordinatorOptions: Partial<GroupCoordinatorOptions> = {}, config: Partial<BrokerConfig> = {}): Promise<GroupHandlerKit> {
  const kit = await handlerKit(config);
  const h = await coordinatorHarness({ initialRebalanceDelayMs: 0, ...coordinatorOptions }, kit.store, kit.services.cluster.self);
  return {
    ...kit,
    services: { ...kit.services, groups: h.coordinator, coordinators: h.locator },
    coordinator: h.coordinator,
    locator: h.locator,
    async close() {
      await h.coordinator.stop();
      await kit.close();
    },
  };
}

/**
 * Calls a handler with a request encoded at `version`, then encodes and decodes its answer
 * at that version: the result is exactly what a client of that version reads.
 */
export async function wireCall<K extends ApiKey>(kit: HandlerKit, handler: ApiHandler<K>, version: number, body: Partial<RequestOf<K>>): Promise<ResponseOf<K>> {
  const response = answered(await callHandler(kit, handler, version, body));
  const frame = encodeResponse(handler.apiKey, version, 7, response);
  return decodeResponse(handler.apiKey, version, frame.subarray(4)).body;
}
