import {
  MetadataStoreError,
  type AgentRecord,
  type AgentRegistration,
  type AgentRegistry,
  type ListenerEndpoint,
} from '../metadata-store.js';
import type { SqliteContext } from './sqlite-context.js';

interface AgentRow {
  agent_id: string;
  node_id: number;
  host: string;
  port: number;
  rack: string | null;
  listeners: string;
  last_heartbeat: number;
}

const COLUMNS = 'agent_id, node_id, host, port, rack, listeners, last_heartbeat';

export class SqliteAgentRegistry implements AgentRegistry {
  constructor(private readonly ctx: SqliteContext) {}

  async register(registration: AgentRegistration): Promise<AgentRecord> {
    this.ctx.assertOpen();
    const db = this.ctx.db;
    return db
      .transaction(() => {
        const now = this.ctx.now();
        const listeners = encodeListeners(registration.listeners);
        const existing = db.prepare<[string], AgentRow>(`SELECT ${COLUMNS} FROM agents WHERE agent_id = ?`).get(registration.agentId);
        let nodeId: number;
        if (existing !== undefined) {
          nodeId = existing.node_id;
          db.prepare('UPDATE agents SET host = ?, port = ?, rack = ?, listeners = ?, last_heartbeat = ? WHERE agent_id = ?').run(
            registration.host,
            registration.port,
            registration.rack,
            listeners,
            now,
            registration.agentId,
          );
        } else {
          nodeId = registration.nodeId ?? lowestFreeNodeId(db.prepare<[], { node_id: number }>('SELECT node_id FROM agents ORDER BY node_id').all().map((r) => r.node_id));
          const holder = db.prepare<[number], { agent_id: string }>('SELECT agent_id FROM agents WHERE node_id = ?').get(nodeId);
          if (holder !== undefined) throw nodeIdInUse(nodeId, holder.agent_id);
          db.prepare(
            'INSERT INTO agents (agent_id, node_id, host, port, rack, listeners, registered_at, last_heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          ).run(registration.agentId, nodeId, registration.host, registration.port, registration.rack, listeners, now, now);
        }
        return {
          agentId: registration.agentId,
          nodeId,
          host: registration.host,
          port: registration.port,
          rack: registration.rack,
          listeners: decodeListeners(listeners),
          lastHeartbeat: now,
        };
      })
      .immediate();
  }

  async heartbeat(agentId: string): Promise<boolean> {
    this.ctx.assertOpen();
    return this.ctx.db.prepare('UPDATE agents SET last_heartbeat = ? WHERE agent_id = ?').run(this.ctx.now(), agentId).changes === 1;
  }

  async listLive(ttlMs: number): Promise<AgentRecord[]> {
    this.ctx.assertOpen();
    const rows = this.ctx.db
      .prepare<[number], AgentRow>(`SELECT ${COLUMNS} FROM agents WHERE last_heartbeat > ? ORDER BY node_id`)
      .all(this.ctx.now() - ttlMs);
    return rows.map(toRecord);
  }

  async list(): Promise<AgentRecord[]> {
    this.ctx.assertOpen();
    return this.ctx.db.prepare<[], AgentRow>(`SELECT ${COLUMNS} FROM agents ORDER BY node_id`).all().map(toRecord);
  }

  async deregister(agentId: string): Promise<void> {
    this.ctx.assertOpen();
    this.ctx.db.prepare('UPDATE agents SET last_heartbeat = 0 WHERE agent_id = ?').run(agentId);
  }
}

export function lowestFreeNodeId(sortedIds: readonly number[]): number {
  let candidate = 0;
  for (const id of sortedIds) {
    if (id === candidate) candidate++;
    else if (id > candidate) break;
  }
  return candidate;
}

export function nodeIdInUse(nodeId: number, holder: string): MetadataStoreError {
  return new MetadataStoreError('NODE_ID_IN_USE', `Node id ${nodeId} belongs to agent "${holder}"`);
}

function toRecord(row: AgentRow): AgentRecord {
  return {
    agentId: row.agent_id,
    nodeId: Number(row.node_id),
    host: row.host,
    port: Number(row.port),
    rack: row.rack,
    listeners: decodeListeners(row.listeners),
    lastHeartbeat: Number(row.last_heartbeat),
  };
}

/** The listeners column of both stores: a JSON array of {name, host, port}. */
export function encodeListeners(listeners: readonly ListenerEndpoint[] | undefined): string {
  return JSON.stringify((listeners ?? []).map((l) => ({ name: l.name, host: l.host, port: l.port })));
}

export function decodeListeners(text: string): ListenerEndpoint[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) return [];
  const out: ListenerEndpoint[] = [];
  for (const item of parsed as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { name, host, port } = item as { name?: unknown; host?: unknown; port?: unknown };
    if (typeof name === 'string' && typeof host === 'string' && typeof port === 'number') out.push({ name, host, port });
  }
  return out;
}
