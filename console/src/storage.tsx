import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type StorageTopic } from './api';
import { fmtBytes, fmtCost, fmtDec, fmtInt } from './format';
import { href, useApi, useStored } from './hooks';
import { Badge, Bar, Empty, ErrorBox, Loading, PageHeader, SearchBox, Stat, Updated, useSorted } from './ui';

type StorageKey = 'name' | 'objects' | 'chunks' | 'payload_bytes' | 'average_chunk_bytes' | 'monthly_cost' | 'per_partition';

/** The compactor's state for a topic, as the agent judges it by the compactor's own rule. */
function compactionBadge(t: StorageTopic, smallChunkBytes: number | undefined) {
  if (t.chunks === 0) return <Badge kind="muted">empty</Badge>;
  const title = `${fmtInt(t.chunks)} chunks in ${fmtInt(t.partitions_with_data)} partitions; compaction merges runs of chunks under ${smallChunkBytes === undefined ? 'the small-chunk size' : fmtBytes(smallChunkBytes)} into one per partition`;
  if (t.partitions_awaiting_compaction === 0) return <Badge kind="ok" title={title}>merged</Badge>;
  return (
    <Badge kind={t.partitions_awaiting_compaction > t.partitions_with_data / 2 ? 'warn' : 'info'} title={title}>
      {fmtInt(t.partitions_awaiting_compaction)} of {fmtInt(t.partitions_with_data)} partitions to merge
    </Badge>
  );
}

export function StoragePage() {
  const [price, setPrice] = useStored('storage.price', 0.023);
  const [priceText, setPriceText] = useState(String(price));
  const [search, setSearch] = useState('');
  useEffect(() => {
    const v = Number(priceText);
    if (priceText.trim() === '' || !Number.isFinite(v) || v < 0 || v === price) return;
    const t = setTimeout(() => setPrice(v), 300);
    return () => clearTimeout(t);
  }, [priceText, price, setPrice]);
  const storage = useApi((s) => api.storage(price, s), [price], 15000, true);
  const topicList = useApi((s) => api.topics(s), [], 15000);
  const partitionsOf = useMemo(() => new Map((topicList.data?.topics ?? []).map((t) => [t.name, t.partitions])), [topicList.data]);
  const rows = storage.data?.topics ?? [];
  const filtered = useMemo(() => {
    const n = search.trim().toLowerCase();
    return n ? rows.filter((t) => t.name.toLowerCase().includes(n)) : rows;
  }, [rows, search]);
  const { sorted, th } = useSorted<StorageTopic, StorageKey>(filtered, { key: 'payload_bytes', desc: true }, (t, k) =>
    k === 'per_partition' ? t.chunks / (partitionsOf.get(t.name) || 1) : t[k],
  );
  const total = storage.data?.total;
  const maxPayload = Math.max(0, ...rows.map((t) => t.payload_bytes));
  const overhead = total && total.payload_bytes > 0 ? total.stored_bytes / total.payload_bytes : undefined;
  const priceInvalid = priceText.trim() === '' || !Number.isFinite(Number(priceText)) || Number(priceText) < 0;

  return (
    <div>
      <PageHeader title="Object storage">
        <Updated at={storage.loadedAt} loading={storage.loading} onReload={storage.reload} />
        <label class="price">
          $ per GB-month
          <input name="price" class={`w-num${priceInvalid ? ' invalid' : ''}`} type="number" min="0" step="0.001" value={priceText} onInput={(e) => setPriceText(e.currentTarget.value)} />
        </label>
      </PageHeader>
      <ErrorBox error={storage.error} />
      {!storage.data && !storage.error ? <Loading what="storage" /> : null}
      {total ? (
        <div class="stats" data-testid="storage-totals">
          <Stat label="Objects" value={fmtInt(total.objects)} sub={total.unreferenced_objects ? `${fmtInt(total.unreferenced_objects)} unreferenced (awaiting GC)` : 'none unreferenced'} testId="storage-objects" />
          <Stat label="Stored" value={fmtBytes(total.stored_bytes)} sub="object bytes" testId="storage-stored" />
          <Stat label="Payload" value={fmtBytes(total.payload_bytes)} sub={overhead ? `stored = ${fmtDec(overhead)} × payload` : 'record batches referenced'} testId="storage-payload" />
          <Stat label="Estimated monthly cost" value={<span data-testid="storage-cost">{fmtCost(total.monthly_cost)}</span>} sub={`at $${storage.data?.price_per_gb_month ?? price}/GB-month`} />
        </div>
      ) : null}
      {storage.data ? (
        <>
          <div class="toolbar">
            <SearchBox value={search} onInput={setSearch} placeholder="Search topics" />
            <span class="muted">
              {fmtInt(filtered.length)} of {fmtInt(rows.length)} topics
            </span>
          </div>
          {filtered.length === 0 ? (
            <Empty>No topic has stored data{search ? ' matching the search' : ''}.</Empty>
          ) : (
            <table class="grid" data-testid="storage-table">
              <thead>
                <tr>
                  {th('name', 'Topic')}
                  {th('objects', 'Objects', true)}
                  {th('chunks', 'Chunks', true)}
                  {th('payload_bytes', 'Payload', true)}
                  <th class="bar-col" />
                  {th('average_chunk_bytes', 'Avg chunk', true)}
                  {th('per_partition', 'Compaction')}
                  {th('monthly_cost', 'Monthly cost', true)}
                </tr>
              </thead>
              <tbody>
                {sorted.map((t) => (
                  <tr key={t.name} data-topic={t.name}>
                    <td>
                      <a href={href('topics', t.name)}>{t.name}</a>
                    </td>
                    <td class="num">{fmtInt(t.objects)}</td>
                    <td class="num">{fmtInt(t.chunks)}</td>
                    <td class="num">{fmtBytes(t.payload_bytes)}</td>
                    <td class="bar-col">
                      <Bar value={t.payload_bytes} max={maxPayload} />
                    </td>
                    <td class="num">{fmtBytes(t.average_chunk_bytes)}</td>
                    <td>{compactionBadge(t, storage.data?.compaction.small_chunk_bytes)}</td>
                    <td class="num">{fmtCost(t.monthly_cost)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p class="muted small">
            Objects of a topic may be shared with other topics (one flush writes every partition it holds), so per-topic objects do not add up to the total. The cost counts stored bytes at the price above;
            requests are not included.
          </p>
        </>
      ) : null}
    </div>
  );
}
