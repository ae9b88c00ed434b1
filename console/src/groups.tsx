import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type GroupDescription, type GroupSummary, type ResetOffsetsRequest, type ResetOffsetsResponse, type ResetTarget } from './api';
import { TimeChart } from './chart';
import { fmtInt, fromDatetimeLocal, toDatetimeLocal } from './format';
import { href, navigate, useApi } from './hooks';
import { Bar, Empty, ErrorBox, Loading, PageHeader, SearchBox, Stat, StateBadge, Updated, useSorted } from './ui';

type GroupKey = 'group_id' | 'state' | 'members' | 'partitions' | 'total_lag';

export function GroupsPage() {
  const groups = useApi((s) => api.groups(s), [], 5000);
  const [search, setSearch] = useState('');
  const all = groups.data?.groups ?? [];
  const filtered = useMemo(() => {
    const n = search.trim().toLowerCase();
    return n ? all.filter((g) => g.group_id.toLowerCase().includes(n)) : all;
  }, [all, search]);
  const { sorted, th } = useSorted<GroupSummary, GroupKey>(filtered, { key: 'group_id', desc: false }, (g, k) => g[k]);
  const maxLag = Math.max(0, ...all.map((g) => g.total_lag));

  return (
    <div>
      <PageHeader title="Consumer groups">
        <Updated at={groups.loadedAt} loading={groups.loading} onReload={groups.reload} />
      </PageHeader>
      <div class="toolbar">
        <SearchBox value={search} onInput={setSearch} placeholder="Search groups" />
        <span class="muted">
          {fmtInt(filtered.length)} of {fmtInt(all.length)} groups
        </span>
      </div>
      <ErrorBox error={groups.error} />
      {!groups.data && !groups.error ? <Loading what="groups" /> : null}
      {groups.data && filtered.length === 0 ? <Empty>{all.length === 0 ? 'No consumer groups yet.' : 'No group matches the search.'}</Empty> : null}
      {filtered.length > 0 ? (
        <table class="grid" data-testid="groups-table">
          <thead>
            <tr>
              {th('group_id', 'Group')}
              {th('state', 'State')}
              {th('members', 'Members', true)}
              {th('partitions', 'Partitions', true)}
              {th('total_lag', 'Total lag', true)}
              <th class="bar-col" />
            </tr>
          </thead>
          <tbody>
            {sorted.map((g) => (
              <tr key={g.group_id} data-group={g.group_id}>
                <td>
                  <a href={href('groups', g.group_id)}>{g.group_id}</a>
                </td>
                <td>
                  <StateBadge state={g.state} />
                </td>
                <td class="num">{fmtInt(g.members)}</td>
                <td class="num">{fmtInt(g.partitions)}</td>
                <td class="num lag">{fmtInt(g.total_lag)}</td>
                <td class="bar-col">
                  <Bar value={g.total_lag} max={maxLag} kind="warn" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

const COLORS = ['#2563eb', '#16a34a', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#dc2626'];
const HISTORY = 120;

/** Total lag and lag per topic at each refresh while the page is open. */
function useLagHistory(group: GroupDescription | undefined, at: number | undefined) {
  const history = useRef<{ id: string; times: number[]; byTopic: Map<string, Array<number | null>>; total: number[] }>({ id: '', times: [], byTopic: new Map(), total: [] });
  if (group && at && history.current.id !== group.group_id) history.current = { id: group.group_id, times: [], byTopic: new Map(), total: [] };
  const h = history.current;
  if (group && at && h.times[h.times.length - 1] !== at) {
    const lagOf = new Map<string, number>();
    for (const o of group.offsets) lagOf.set(o.topic, (lagOf.get(o.topic) ?? 0) + o.lag);
    for (const [topic, values] of h.byTopic) if (!lagOf.has(topic)) values.push(null);
    for (const [topic, lag] of lagOf) {
      let values = h.byTopic.get(topic);
      if (!values) {
        values = new Array<number | null>(h.times.length).fill(null);
        h.byTopic.set(topic, values);
      }
      values.push(lag);
    }
    h.times.push(at);
    h.total.push(group.total_lag);
    if (h.times.length > HISTORY) {
      h.times.shift();
      h.total.shift();
      for (const v of h.byTopic.values()) v.shift();
    }
  }
  return h;
}

export function GroupPage({ id }: { id: string }) {
  const group = useApi((s) => api.group(id, s), [id], 5000);
  const g = group.data;
  const history = useLagHistory(g, group.loadedAt);
  const topics = useMemo(() => [...new Set(g?.offsets.map((o) => o.topic) ?? [])].sort(), [g]);
  const ownerOf = useMemo(() => {
    const m = new Map<string, string>();
    for (const mem of g?.members ?? []) for (const a of mem.assignments) for (const p of a.partitions) m.set(`${a.topic}/${p}`, mem.client_id || mem.member_id);
    return m;
  }, [g]);
  const maxLag = Math.max(0, ...(g?.offsets.map((o) => o.lag) ?? []));
  const series = [
    { label: 'total', color: '#111827', values: history.total },
    ...[...history.byTopic.entries()].slice(0, COLORS.length - 1).map(([topic, values], i) => ({ label: topic, color: COLORS[i % COLORS.length]!, values })),
  ];

  return (
    <div>
      <PageHeader title={id} crumbs={[{ label: 'Consumer groups', href: href('groups') }]}>
        <Updated at={group.loadedAt} loading={group.loading} onReload={group.reload} />
      </PageHeader>
      <ErrorBox error={group.error} />
      {!g && !group.error ? <Loading what="group" /> : null}
      {g ? (
        <>
          <div class="stats">
            <Stat label="State" value={<StateBadge state={g.state} />} testId="group-state" />
            <Stat label="Members" value={fmtInt(g.members.length)} />
            <Stat label="Partitions" value={fmtInt(g.offsets.length)} />
            <Stat label="Total lag" value={<span data-testid="group-total-lag">{fmtInt(g.total_lag)}</span>} />
            <Stat label="Protocol" value={<span class="small">{g.protocol_type || '–'}{g.protocol ? ` / ${g.protocol}` : ''}</span>} />
          </div>
          <TimeChart title="Lag since this page opened" height={140} times={history.times} series={series} format={(v) => fmtInt(v)} integer testId="chart-lag" />
          <h2>Lag per partition</h2>
          {g.offsets.length === 0 ? (
            <Empty>No committed offsets.</Empty>
          ) : (
            <table class="grid" data-testid="group-offsets">
              <thead>
                <tr>
                  <th>Topic</th>
                  <th class="num">Partition</th>
                  <th class="num">Committed</th>
                  <th class="num">High watermark</th>
                  <th class="num">Lag</th>
                  <th class="bar-col" />
                  <th>Consumer</th>
                </tr>
              </thead>
              <tbody>
                {g.offsets.map((o) => (
                  <tr key={`${o.topic}/${o.partition}`} data-topic={o.topic} data-partition={o.partition}>
                    <td class="nowrap">
                      <a href={href('topics', o.topic)}>{o.topic}</a>
                    </td>
                    <td class="num">{o.partition}</td>
                    <td class="num committed">{o.committed_offset < 0 ? '–' : fmtInt(o.committed_offset)}</td>
                    <td class="num">{fmtInt(o.high_watermark)}</td>
                    <td class="num lag">{fmtInt(o.lag)}</td>
                    <td class="bar-col">
                      <Bar value={o.lag} max={maxLag} kind="warn" />
                    </td>
                    <td class="muted small">{ownerOf.get(`${o.topic}/${o.partition}`) ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>Members</h2>
          {g.members.length === 0 ? (
            <Empty>No active members.</Empty>
          ) : (
            <table class="grid" data-testid="group-members">
              <thead>
                <tr>
                  <th>Member</th>
                  <th>Client id</th>
                  <th>Host</th>
                  <th>Assignments</th>
                </tr>
              </thead>
              <tbody>
                {g.members.map((m) => (
                  <tr key={m.member_id}>
                    <td class="mono small">{m.member_id}</td>
                    <td>{m.client_id}</td>
                    <td class="mono small">{m.client_host}</td>
                    <td>
                      {m.assignments.length === 0 ? <span class="muted">none</span> : null}
                      {m.assignments.map((a) => (
                        <div key={a.topic}>
                          <a href={href('topics', a.topic)}>{a.topic}</a>: <span class="mono">{[...a.partitions].sort((x, y) => x - y).join(', ')}</span>
                        </div>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <ResetOffsets group={g} topics={topics} onDone={group.reload} />
          <DeleteGroup group={g} />
        </>
      ) : null}
    </div>
  );
}

function ResetOffsets({ group, topics, onDone }: { group: GroupDescription; topics: string[]; onDone: () => void }) {
  const [topic, setTopic] = useState(topics[0] ?? '');
  const [to, setTo] = useState<ResetTarget>('earliest');
  const [offset, setOffset] = useState('0');
  const [time, setTime] = useState(() => toDatetimeLocal(Date.now() - 3_600_000));
  const [selected, setSelected] = useState<Set<number> | 'all'>('all');
  const [preview, setPreview] = useState<{ key: string; result: ResetOffsetsResponse } | undefined>(undefined);
  const [applied, setApplied] = useState<ResetOffsetsResponse | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  useEffect(() => {
    if (!topic && topics[0]) setTopic(topics[0]);
  }, [topics, topic]);

  const partitions = useMemo(() => group.offsets.filter((o) => o.topic === topic).map((o) => o.partition).sort((a, b) => a - b), [group.offsets, topic]);

  function request(dryRun: boolean): ResetOffsetsRequest {
    const body: ResetOffsetsRequest = { topic, to, dry_run: dryRun };
    if (selected !== 'all') body.partitions = [...selected].sort((a, b) => a - b);
    if (to === 'offset') body.offset = Number(offset);
    if (to === 'timestamp') body.timestamp = fromDatetimeLocal(time) ?? Date.now();
    return body;
  }
  const key = JSON.stringify(request(false));

  async function run(dryRun: boolean) {
    setBusy(true);
    setError(undefined);
    if (!dryRun) setApplied(undefined);
    try {
      if (to === 'offset' && !(Number.isInteger(Number(offset)) && Number(offset) >= 0)) throw new Error('the offset must be a whole number ≥ 0');
      const result = await api.resetOffsets(group.group_id, request(dryRun));
      if (dryRun) setPreview({ key, result });
      else {
        setApplied(result);
        setPreview(undefined);
        onDone();
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const active = group.members.length > 0;
  const shown = applied ?? preview?.result;

  return (
    <form
      class="form card reset-offsets"
      data-testid="reset-offsets"
      onSubmit={(e) => {
        e.preventDefault();
        void run(true);
      }}
    >
      <h2>Reset offsets</h2>
      {active ? <div class="alert alert-warn">The group has active members: stop its consumers first (the broker refuses to reset the offsets of an active group).</div> : null}
      {topics.length === 0 ? <div class="muted">The group has no committed offsets to reset.</div> : null}
      <div class="form-row">
        <label>
          Topic
          <select
            name="reset_topic"
            value={topic}
            onChange={(e) => {
              setTopic(e.currentTarget.value);
              setSelected('all');
            }}
          >
            {topics.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          To
          <select name="reset_to" value={to} onChange={(e) => setTo(e.currentTarget.value as ResetTarget)}>
            <option value="earliest">Earliest</option>
            <option value="latest">Latest</option>
            <option value="offset">Offset</option>
            <option value="timestamp">Timestamp</option>
          </select>
        </label>
        {to === 'offset' ? (
          <label>
            Offset
            <input name="reset_offset" class="w-num" type="number" min="0" value={offset} onInput={(e) => setOffset(e.currentTarget.value)} />
          </label>
        ) : null}
        {to === 'timestamp' ? (
          <label>
            Time
            <input name="reset_timestamp" type="datetime-local" step="1" value={time} onInput={(e) => setTime(e.currentTarget.value)} />
          </label>
        ) : null}
      </div>
      <div class="form-row partitions-pick">
        <span class="label">Partitions</span>
        <label class="check">
          <input type="checkbox" checked={selected === 'all'} onChange={(e) => setSelected(e.currentTarget.checked ? 'all' : new Set(partitions))} /> all
        </label>
        {selected !== 'all'
          ? partitions.map((p) => (
              <label class="check" key={p}>
                <input
                  type="checkbox"
                  checked={selected.has(p)}
                  onChange={(e) => {
                    const n = new Set(selected);
                    if (e.currentTarget.checked) n.add(p);
                    else n.delete(p);
                    setSelected(n);
                  }}
                />{' '}
                {p}
              </label>
            ))
          : null}
      </div>
      <div class="form-row">
        <button type="submit" class="btn" disabled={busy || !topic}>
          Preview
        </button>
        <button type="button" class="btn btn-primary" disabled={busy || !preview || preview.key !== key} onClick={() => void run(false)} title={!preview ? 'Preview first' : ''}>
          Apply reset
        </button>
        {preview && preview.key !== key ? <span class="muted small">inputs changed: preview again</span> : null}
      </div>
      <ErrorBox error={error} />
      {applied ? <div class="alert alert-ok" data-testid="reset-applied">Offsets of {fmtInt(applied.offsets.length)} partitions reset.</div> : null}
      {shown ? (
        <table class="grid" data-testid={applied ? 'reset-result' : 'reset-preview'}>
          <thead>
            <tr>
              <th>Topic</th>
              <th class="num">Partition</th>
              <th class="num">Current offset</th>
              <th class="num">{applied ? 'New offset' : 'Would become'}</th>
              <th class="num">Change</th>
            </tr>
          </thead>
          <tbody>
            {shown.offsets.map((o) => (
              <tr key={`${o.topic}/${o.partition}`} data-partition={o.partition}>
                <td>{o.topic}</td>
                <td class="num">{o.partition}</td>
                <td class="num previous">{o.previous_offset < 0 ? '–' : fmtInt(o.previous_offset)}</td>
                <td class="num new-offset">{fmtInt(o.offset)}</td>
                <td class="num">{o.previous_offset < 0 ? '' : `${o.offset - o.previous_offset >= 0 ? '+' : ''}${fmtInt(o.offset - o.previous_offset)}`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </form>
  );
}

function DeleteGroup({ group }: { group: GroupDescription }) {
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="form card danger"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        api.deleteGroup(group.group_id).then(
          () => navigate('groups'),
          (err: unknown) => {
            setError(err);
            setBusy(false);
          },
        );
      }}
    >
      <h2>Delete group</h2>
      <p class="muted small">Deletes the group and its committed offsets; only an empty group can be deleted. Type the group id to confirm.</p>
      <div class="form-row">
        <input name="confirm_group" type="text" placeholder={group.group_id} value={confirm} onInput={(e) => setConfirm(e.currentTarget.value)} />
        <button type="submit" class="btn btn-danger" disabled={busy || confirm !== group.group_id}>
          Delete group
        </button>
      </div>
      <ErrorBox error={error} />
    </form>
  );
}
