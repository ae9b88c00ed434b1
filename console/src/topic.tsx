import { useMemo, useState } from 'preact/hooks';
import { api, type TopicConfig, type TopicDescription } from './api';
import { fmtBytes, fmtInt, fmtTime } from './format';
import { href, navigate, useApi } from './hooks';
import { MessageBrowser } from './messages';
import { ProduceForm } from './produce';
import { Badge, Bar, Empty, ErrorBox, Loading, PageHeader, SearchBox, Stat, Tabs, Updated } from './ui';

const TABS = ['partitions', 'messages', 'produce', 'configs', 'settings'] as const;
type Tab = (typeof TABS)[number];

export function TopicPage({ name, tab }: { name: string; tab: string | undefined }) {
  const topic = useApi((s) => api.topic(name, s), [name], 10000);
  const active: Tab = (TABS as readonly string[]).includes(tab ?? '') ? (tab as Tab) : 'partitions';
  const t = topic.data;
  const records = t?.partitions.reduce((a, p) => a + p.records, 0) ?? 0;
  const bytes = t?.partitions.reduce((a, p) => a + p.bytes, 0) ?? 0;

  return (
    <div>
      <PageHeader title={name} crumbs={[{ label: 'Topics', href: href('topics') }]}>
        <Updated at={topic.loadedAt} loading={topic.loading} onReload={topic.reload} />
      </PageHeader>
      <ErrorBox error={topic.error} />
      {!t && !topic.error ? <Loading what="topic" /> : null}
      {t ? (
        <>
          <div class="stats">
            <Stat label="Partitions" value={fmtInt(t.partition_count)} />
            <Stat label="Records" value={fmtInt(records)} />
            <Stat label="Size" value={fmtBytes(bytes)} />
            <Stat label="Created" value={<span class="small">{fmtTime(t.created_at_ms)}</span>} />
            <Stat label="Topic id" value={<span class="mono small">{t.topic_id}</span>} />
          </div>
          <Tabs
            active={active}
            tabs={[
              { id: 'partitions', label: 'Partitions', href: href('topics', name) },
              { id: 'messages', label: 'Messages', href: href('topics', name, 'messages') },
              { id: 'produce', label: 'Produce', href: href('topics', name, 'produce') },
              { id: 'configs', label: `Configs`, href: href('topics', name, 'configs') },
              { id: 'settings', label: 'Settings', href: href('topics', name, 'settings') },
            ]}
          />
          <div class="tab-body">
            {active === 'partitions' ? <PartitionsTable topic={t} /> : null}
            {active === 'messages' ? <MessageBrowser topic={t} /> : null}
            {active === 'produce' ? <ProduceForm topic={t} onProduced={topic.reload} /> : null}
            {active === 'configs' ? <ConfigsTable topic={t} onChanged={topic.reload} /> : null}
            {active === 'settings' ? <TopicSettings topic={t} onChanged={topic.reload} /> : null}
          </div>
        </>
      ) : null}
    </div>
  );
}

function PartitionsTable({ topic }: { topic: TopicDescription }) {
  const maxBytes = Math.max(0, ...topic.partitions.map((p) => p.bytes));
  return (
    <table class="grid" data-testid="partitions-table">
      <thead>
        <tr>
          <th class="num">Partition</th>
          <th>Leader</th>
          <th class="num">Log start offset</th>
          <th class="num">High watermark</th>
          <th class="num">Records</th>
          <th class="num">Size</th>
          <th class="bar-col" />
        </tr>
      </thead>
      <tbody>
        {topic.partitions.map((p) => (
          <tr key={p.partition} data-partition={p.partition}>
            <td class="num">{p.partition}</td>
            <td>
              {p.leader ? (
                <a href={href('agents')}>
                  <span class="mono">{p.leader.node_id}</span> <span class="muted">{p.leader.agent_id}</span>
                </a>
              ) : (
                <Badge kind="bad">no leader</Badge>
              )}
            </td>
            <td class="num">{fmtInt(p.log_start_offset)}</td>
            <td class="num">{fmtInt(p.high_watermark)}</td>
            <td class="num">{fmtInt(p.records)}</td>
            <td class="num">{fmtBytes(p.bytes)}</td>
            <td class="bar-col">
              <Bar value={p.bytes} max={maxBytes} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const SOURCE_LABEL: Record<string, string> = {
  DEFAULT_CONFIG: 'default',
  TOPIC_CONFIG: 'topic',
  DYNAMIC_TOPIC_CONFIG: 'topic',
  DYNAMIC_DEFAULT_BROKER_CONFIG: 'broker default (dynamic)',
  DYNAMIC_BROKER_CONFIG: 'broker (dynamic)',
  STATIC_BROKER_CONFIG: 'broker (static)',
};

/** A value set on the topic itself (the contract's TOPIC_CONFIG; Kafka calls it DYNAMIC_TOPIC_CONFIG). */
function isOverride(c: TopicConfig): boolean {
  return c.source === 'TOPIC_CONFIG' || c.source === 'DYNAMIC_TOPIC_CONFIG';
}

function ConfigsTable({ topic, onChanged }: { topic: TopicDescription; onChanged: () => void }) {
  const [search, setSearch] = useState('');
  const [onlyOverrides, setOnlyOverrides] = useState(false);
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const shown = useMemo(
    () => topic.configs.filter((c) => (!onlyOverrides || isOverride(c)) && c.name.toLowerCase().includes(search.trim().toLowerCase())),
    [topic.configs, search, onlyOverrides],
  );

  async function save(name: string, value: string | null) {
    setBusy(true);
    setError(undefined);
    try {
      await api.alterConfigs(topic.name, { [name]: value });
      setEditing(undefined);
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  function edit(c: TopicConfig) {
    setEditing(c.name);
    setDraft(c.value ?? '');
    setError(undefined);
  }

  return (
    <div>
      <div class="toolbar">
        <SearchBox value={search} onInput={setSearch} placeholder="Search configs" />
        <label class="check">
          <input type="checkbox" checked={onlyOverrides} onChange={(e) => setOnlyOverrides(e.currentTarget.checked)} /> only topic overrides
        </label>
      </div>
      <ErrorBox error={error} />
      {shown.length === 0 ? (
        <Empty>No config matches.</Empty>
      ) : (
        <table class="grid" data-testid="configs-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Value</th>
              <th>Source</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((c) => (
              <tr key={c.name} data-config={c.name} class={isOverride(c) ? 'override' : ''}>
                <td class="mono">{c.name}</td>
                <td class="mono">
                  {editing === c.name ? (
                    <form
                      class="inline-form"
                      onSubmit={(e) => {
                        e.preventDefault();
                        void save(c.name, draft);
                      }}
                    >
                      <input type="text" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} autoFocus />
                      <button type="submit" class="btn btn-small btn-primary" disabled={busy}>
                        Save
                      </button>
                      <button type="button" class="btn btn-small" onClick={() => setEditing(undefined)}>
                        Cancel
                      </button>
                    </form>
                  ) : c.sensitive ? (
                    <span class="muted">(sensitive)</span>
                  ) : c.value === null ? (
                    <span class="null">null</span>
                  ) : (
                    c.value
                  )}
                </td>
                <td>
                  <Badge kind={isOverride(c) ? 'info' : 'muted'}>{SOURCE_LABEL[c.source] ?? c.source}</Badge>
                </td>
                <td class="actions">
                  {editing !== c.name ? (
                    <button type="button" class="btn btn-small" onClick={() => edit(c)}>
                      Edit
                    </button>
                  ) : null}
                  {isOverride(c) && editing !== c.name ? (
                    <button type="button" class="btn btn-small" disabled={busy} onClick={() => void save(c.name, null)} title="Remove the topic override">
                      Reset
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function TopicSettings({ topic, onChanged }: { topic: TopicDescription; onChanged: () => void }) {
  const [count, setCount] = useState(String(topic.partition_count + 1));
  const [confirmName, setConfirmName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);

  async function run(fn: () => Promise<unknown>, message: string) {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      await fn();
      setDone(message);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="settings">
      <form
        class="form card"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await api.addPartitions(topic.name, Number(count));
            onChanged();
          }, `${topic.name} now has ${count} partitions`);
        }}
      >
        <h2>Add partitions</h2>
        <p class="muted small">Partitions can only be added. Records with a key may map to another partition afterwards.</p>
        <div class="form-row">
          <label>
            New total
            <input name="count" class="w-num" type="number" min={topic.partition_count + 1} value={count} onInput={(e) => setCount(e.currentTarget.value)} />
          </label>
          <button type="submit" class="btn" disabled={busy || !(Number(count) > topic.partition_count)}>
            Add partitions
          </button>
        </div>
      </form>
      <form
        class="form card danger"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            await api.deleteTopic(topic.name);
            navigate('topics');
          }, `${topic.name} deleted`);
        }}
      >
        <h2>Delete topic</h2>
        <p class="muted small">Deletes the topic and all its records. Type the topic name to confirm.</p>
        <div class="form-row">
          <input name="confirm" type="text" placeholder={topic.name} value={confirmName} onInput={(e) => setConfirmName(e.currentTarget.value)} />
          <button type="submit" class="btn btn-danger" disabled={busy || confirmName !== topic.name}>
            Delete topic
          </button>
        </div>
      </form>
      {done ? <div class="alert alert-ok">{done}</div> : null}
      <ErrorBox error={error} />
    </div>
  );
}
