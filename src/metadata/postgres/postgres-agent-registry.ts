import type { AgentRecord, AgentRegistration, AgentRegistry } from '../metadata-store.js';
import { decodeListeners, encodeListeners, lowestFreeNodeId, nodeIdInUse } from '../sqlite/sqlite-agent-registry.js';
import { DB_NOW_MS, type PostgresContext } from './postgres-context.js';

interface AgentRow {
  agent_id: string;
  node_id: number;
  host: string;
  port: number;
  rack: string | null;
  listeners: string;
  last_heartbeat: bigint;
}

const COLUMNS = 'agent_id, node_id, host, port, rack, listeners, last_heartbeat';

/** Serializes first registrations, so two new agents never pick the same free node id. */
const REGISTER_LOCK_KEY = 0x5354_524d_4147_54n; // "STRMAGT"

export class PostgresAgentRegistry implements AgentRegistry {
  constructor(private readonly ctx: PostgresContext) {}

  async register(registration: AgentRegistration): Promise<AgentRecord> {
    this.ctx.assertOpen();
    const listeners = encodeListeners(registration.listeners);
    return this.ctx.transaction(async (tx) => {
      const updated = await tx.query<AgentRow>(
        `UPDATE agents SET host = $2, port = $3, rack = $4, listeners = $5, last_heartbeat = ${DB_NOW_MS} WHERE agent_id = $1 RETURNING ${COLUMNS}`,
        [registration.agentId, registration.host, registration.port, registration.rack, listeners],
      );
      if (updated.rows[0] !== undefined) return toRecord(updated.rows[0]);
      await tx.query('SELECT pg_advisory_xact_lock($1)', [REGISTER_LOCK_KEY]);
      const taken = await tx.query<{ agent_id: string; node_id: number }>('SELECT agent_id, node_id FROM agents ORDER BY node_id');
      const nodeId = registration.nodeId ?? lowestFreeNodeId(taken.rows.map((r) => r.node_id));
      const holder = taken.rows.find((r) => r.node_id === nodeId && r.agent_id !== registration.agentId);
      if (holder !== undefined) throw nodeIdInUse(nodeId, holder.agent_id);
      // ON CONFLICT: an agent id registering twice at once lands on the row the first made.
      const inserted = await tx.query<AgentRow>(
        `INSERT INTO agents (agent_id, node_id, host, port, rack, listeners, registered_at, last_heartbeat)
         VALUES ($1, $2, $3, $4, $5, $6, ${DB_NOW_MS}, ${DB_NOW_MS})
         ON CONFLICT (agent_id) DO UPDATE SET host = excluded.host, port = excluded.port, rack = excluded.rack,
           listeners = excluded.listeners, last_heartbeat = excluded.last_heartbeat
         RETURNING ${COLUMNS}`,
        [registration.agentId, nodeId, registration.host, registration.port, registration.rack, listeners],
      );
      return toRecord(inserted.rows[0]!);
    });
  }

  async heartbeat(agentId: string): Promise<boolean> {
    this.ctx.assertOpen();
    const result = await this.ctx.query(
      { name: 'streamhouse.agent_heartbeat', text: `UPDATE agents SET last_heartbeat = ${DB_NOW_MS} WHERE agent_id = $1` },
      [agentId],
    );
    return result.rowCount === 1;
  }

  async listLive(ttlMs: number): Promise<AgentRecord[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<AgentRow>(
      { name: 'streamhouse.agent_list_live', text: `SELECT ${COLUMNS} FROM agents WHERE last_heartbeat > ${DB_NOW_MS} - $1::bigint ORDER BY node_id` },
      [ttlMs],
    );
    return result.rows.map(toRecord);
  }

  async list(): Promise<AgentRecord[]> {
    this.ctx.assertOpen();
    const result = await this.ctx.query<AgentRow>(`SELECT ${COLUMNS} FROM agents ORDER BY node_id`);
    return result.rows.map(toRecord);
  }

  async deregister(agentId: string): Promise<void> {
    this.ctx.assertOpen();
    await this.ctx.query('UPDATE agents SET last_heartbeat = 0 WHERE agent_id = $1', [agentId]);
  }
}

function toRecord(row: AgentRow): AgentRecord {
  return {
    agentId: row.agent_id,
    nodeId: row.node_id,
    host: row.host,
    port: row.port,
    rack: row.rack,
    listeners: decodeListeners(row.listeners),
    lastHeartbeat: Number(row.last_heartbeat),
  };
}
