import type { ListenerEndpoint, MetadataStore } from '../../metadata/metadata-store.js';

/**
 * The metadata store as the cluster runtime sees it: each agent registration also carries
 * every advertised listener of this agent (docs/security.md), so that Metadata and
 * FindCoordinator on any agent can tell a client the address on the listener it came in on.
 */
export function withAdvertisedListeners(metadata: MetadataStore, listeners: () => readonly ListenerEndpoint[]): MetadataStore {
  const agents = metadata.agents;
  const registry: MetadataStore['agents'] = {
    register: (registration) => agents.register({ ...registration, listeners: listeners() }),
    heartbeat: (agentId) => agents.heartbeat(agentId),
    listLive: (ttlMs) => agents.listLive(ttlMs),
    list: () => agents.list(),
    deregister: (agentId) => agents.deregister(agentId),
  };
  return new Proxy(metadata, {
    get(target, prop, receiver) {
      if (prop === 'agents') return registry;
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
