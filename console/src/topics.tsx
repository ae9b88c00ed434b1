import { useMemo, useState } from 'preact/hooks';
import { api, type TopicSummary } from './api';
import { fmtBytes, fmtInt } from './format';
import { href, navigate, useApi } from './hooks';
import { Empty, ErrorBox, Loading, PageHeader, SearchBox, Updated, useSorted } from './ui';

type TopicKey = 'name' | 'partitions' | 'records' | 'bytes';

const PAGE_ROWS = 1000;

export function TopicsPage() {
  const topics = useApi((s) => api.topics(s), [], 10000);
  const [search, setSearch] = useState('');
  const [creating, setCreating] = useState(false);
  const [showAll, setShowAll] = useState(false);
  const all = topics.data?.topics ?? [];
  const filtered = useMemo(() => {
    const n = search.trim().toLowerCase();
    return n ? all.filter((t) => t.name.toLowerCase().includes(n)) : all;
  }, [all, search]);
  const { sorted, th } = useSorted<TopicSummary, TopicKey>(filtered, { key: 'name', desc: false }, (t, k) => t[k]);
  const shown = showAll ? sorted : sorted.slice(0, PAGE_ROWS);

  return (
    <div>
      <PageHeader title="Topics">
        <Updated at={topics.loadedAt} loading={topics.loading} onReload={topics.reload} />
        <button type="button" class="btn btn-primary" onClick={() => setCreating((v) => !v)}>
          {creating ? 'Cancel' : 'Create topic'}
        </button>
      </PageHeader>
      {creating ? <CreateTopicForm onCreated={(name) => navigate('topics', name)} /> : null}
      <div class="toolbar">
        <SearchBox value={search} onInput={setSearch} placeholder="Search topics" />
        <span class="muted">
          {fmtInt(filtered.length)} of {fmtInt(all.length)} topics
        </span>
      </div>
      <ErrorBox error={topics.error} />
      {!topics.data && !topics.error ? <Loading what="topics" /> : null}
      {topics.data && filtered.length === 0 ? <Empty>{all.length === 0 ? 'No topics yet.' : 'No topic matches the search.'}</Empty> : null}
      {filtered.length > 0 ? (
        <table class="grid" data-testid="topics-table">
          <thead>
            <tr>
              {th('name', 'Name')}
              {th('partitions', 'Partitions', true)}
              {th('records', 'Records', true)}
              {th('bytes', 'Size', true)}
            </tr>
          </thead>
          <tbody>
            {shown.map((t) => (
              <tr key={t.name} data-topic={t.name}>
                <td>
                  <a href={href('topics', t.name)}>{t.name}</a>
                </td>
                <td class="num">{fmtInt(t.partitions)}</td>
                <td class="num">{fmtInt(t.records)}</td>
                <td class="num">{fmtBytes(t.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {sorted.length > shown.length ? (
        <div class="messages-footer">
          <span class="muted">
            showing {fmtInt(shown.length)} of {fmtInt(sorted.length)}
          </span>
          <button type="button" class="btn" onClick={() => setShowAll(true)}>
            Show all
          </button>
        </div>
      ) : null}
    </div>
  );
}

const COMMON_CONFIGS = ['cleanup.policy', 'retention.ms', 'retention.bytes', 'max.message.bytes', 'compression.type', 'message.timestamp.type', 'segment.bytes'];

function CreateTopicForm({ onCreated }: { onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [partitions, setPartitions] = useState('1');
  const [configs, setConfigs] = useState<Array<{ key: string; value: string }>>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  async function submit(e: Event) {
    e.preventDefault();
    setError(undefined);
    const count = Number(partitions);
    if (!Number.isInteger(count) || count < 1) {
      setError(new Error('partitions must be a whole number ≥ 1'));
      return;
    }
    const cfg: Record<string, string> = {};
    for (const c of configs) if (c.key.trim()) cfg[c.key.trim()] = c.value;
    setBusy(true);
    try {
      const created = await api.createTopic({ name: name.trim(), partitions: count, ...(Object.keys(cfg).length ? { configs: cfg } : {}) });
      onCreated(created.name);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="form card" onSubmit={(e) => void submit(e)} data-testid="create-topic">
      <div class="form-row">
        <label class="grow">
          Name
          <input name="name" type="text" required value={name} onInput={(e) => setName(e.currentTarget.value)} pattern="[a-zA-Z0-9._\-]+" maxLength={249} autoFocus />
        </label>
        <label>
          Partitions
          <input name="partitions" class="w-num" type="number" min="1" value={partitions} onInput={(e) => setPartitions(e.currentTarget.value)} />
        </label>
      </div>
      <div class="form-row column">
        <div class="label">Configs (optional)</div>
        {configs.map((c, i) => (
          <div class="header-row" key={i}>
            <input type="text" list="topic-config-names" placeholder="name" value={c.key} onInput={(e) => setConfigs((cs) => cs.map((x, j) => (j === i ? { ...x, key: e.currentTarget.value } : x)))} />
            <input type="text" placeholder="value" value={c.value} onInput={(e) => setConfigs((cs) => cs.map((x, j) => (j === i ? { ...x, value: e.currentTarget.value } : x)))} />
            <button type="button" class="btn btn-small" onClick={() => setConfigs((cs) => cs.filter((_, j) => j !== i))} aria-label="Remove config">
              ✕
            </button>
          </div>
        ))}
        <datalist id="topic-config-names">
          {COMMON_CONFIGS.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
        <div>
          <button type="button" class="btn btn-small" onClick={() => setConfigs((cs) => [...cs, { key: '', value: '' }])}>
            + Add config
          </button>
        </div>
      </div>
      <div class="form-row">
        <button type="submit" class="btn btn-primary" disabled={busy || !name.trim()}>
          Create
        </button>
      </div>
      <ErrorBox error={error} />
    </form>
  );
}
