import { api, type AgentInfo } from './api';
import { fmtInt, fmtMs } from './format';
import { href, useApi } from './hooks';
import { Badge, Empty, ErrorBox, Loading, PageHeader, Updated } from './ui';

/** partitions of each topic an agent leads, topics in name order, partitions ascending. */
function byTopic(agent: AgentInfo): Array<[string, number[]]> {
  const m = new Map<string, number[]>();
  for (const p of agent.partitions) {
    const list = m.get(p.topic) ?? [];
    list.push(p.partition);
    m.set(p.topic, list);
  }
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([t, ps]) => [t, ps.sort((a, b) => a - b)]);
}

/** "0-3, 7, 9-10" */
export function ranges(ns: readonly number[]): string {
  const sorted = [...ns].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(j > i + 1 ? `${sorted[i]}-${sorted[j]}` : j === i + 1 ? `${sorted[i]}, ${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return out.join(', ');
}

export function AgentsPage() {
  const agents = useApi((s) => api.agents(s), [], 5000);
  const list = [...(agents.data?.agents ?? [])].sort((a, b) => a.node_id - b.node_id);

  return (
    <div>
      <PageHeader title="Agents">
        <Updated at={agents.loadedAt} loading={agents.loading} onReload={agents.reload} />
      </PageHeader>
      <ErrorBox error={agents.error} />
      {!agents.data && !agents.error ? <Loading what="agents" /> : null}
      {agents.data && list.length === 0 ? <Empty>No agents.</Empty> : null}
      {list.length > 0 ? (
        <table class="grid" data-testid="agents-table">
          <thead>
            <tr>
              <th>Agent</th>
              <th class="num">Node id</th>
              <th>Address</th>
              <th>Rack</th>
              <th class="num">Heartbeat</th>
              <th class="num">Partitions led</th>
              <th class="num">Coordinator shards</th>
            </tr>
          </thead>
          <tbody>
            {list.map((a) => (
              <tr key={a.agent_id} data-agent={a.agent_id}>
                <td class="nowrap">
                  <a href={href('agents')} onClick={(e) => {
                    e.preventDefault();
                    document.getElementById(`agent-${a.agent_id}`)?.scrollIntoView();
                  }}>
                    {a.agent_id}
                  </a>{' '}
                  {a.self ? <Badge kind="info" title="the agent serving this console">this agent</Badge> : null}
                </td>
                <td class="num">{a.node_id}</td>
                <td class="mono">
                  {a.host}:{a.port}
                </td>
                <td>{a.rack ?? <span class="muted">–</span>}</td>
                <td class="num">{a.heartbeat_age_ms > 10_000 ? <Badge kind="warn">{fmtMs(a.heartbeat_age_ms)} ago</Badge> : `${fmtMs(a.heartbeat_age_ms)} ago`}</td>
                <td class="num">{fmtInt(a.partitions.length)}</td>
                <td class="num" title={a.coordinator_shards.length ? `shards ${ranges(a.coordinator_shards)}` : undefined}>
                  {fmtInt(a.coordinator_shards.length)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <div class="agent-cards">
        {list.map((a) => (
          <section class="card agent-card" key={a.agent_id} id={`agent-${a.agent_id}`} data-agent={a.agent_id}>
            <h2>
              {a.agent_id} <span class="muted small">node {a.node_id}</span> {a.self ? <Badge kind="info">this agent</Badge> : null}
            </h2>
            <div class="muted small">
              {fmtInt(a.partitions.length)} partitions led · {fmtInt(a.coordinator_shards.length)} coordinator shards
            </div>
            {a.partitions.length === 0 ? (
              <div class="muted">Leads no partition.</div>
            ) : (
              <table class="grid compact" data-testid={`agent-partitions-${a.agent_id}`}>
                <thead>
                  <tr>
                    <th>Topic</th>
                    <th>Partitions</th>
                  </tr>
                </thead>
                <tbody>
                  {byTopic(a).map(([topic, ps]) => (
                    <tr key={topic} data-topic={topic} data-partitions={ps.join(',')}>
                      <td>
                        <a href={href('topics', topic)}>{topic}</a>
                      </td>
                      <td class="mono">{ranges(ps)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {a.coordinator_shards.length > 0 ? (
              <div class="small">
                <span class="muted">coordinator shards </span>
                <span class="mono">{ranges(a.coordinator_shards)}</span>
              </div>
            ) : null}
          </section>
        ))}
      </div>
    </div>
  );
}
