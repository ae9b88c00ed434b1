// The message browser of a topic: one partition or all of them, from the newest records
// backwards or from a start point forwards, and a live tail. Pages of all partitions are
// merged by timestamp; each partition keeps its own cursor.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, type ConsumedRecord, type RecordsQuery, type TopicDescription } from './api';
import { fmtInt, fmtTime, fromDatetimeLocal, toDatetimeLocal, visibleText } from './format';
import { HeaderValue, PayloadFull, PayloadPreview } from './payload';
import { Empty, ErrorBox } from './ui';

type Start = 'latest' | 'earliest' | 'offset' | 'timestamp';
type Order = 'newest' | 'oldest';

interface Row {
  partition: number;
  record: ConsumedRecord;
}

/** Where one partition's next page starts: forward from a query, or backward below `before`. */
type Cursor = { dir: 'forward'; query: RecordsQuery; done: boolean } | { dir: 'backward'; before: number; logStart: number; done: boolean };

const MAX_ROWS = 5000;

async function firstCursor(topic: string, partition: number, start: Start, order: Order, offset: number, timestamp: number, signal: AbortSignal): Promise<Cursor> {
  if (order === 'oldest' || start === 'earliest') {
    const query: RecordsQuery = start === 'offset' ? { offset } : start === 'timestamp' ? { timestamp } : start === 'earliest' ? { from: 'earliest' } : { from: 'latest' };
    return { dir: 'forward', query, done: false };
  }
  if (start === 'latest') {
    const probe = await api.records(topic, partition, { from: 'latest', limit: 1 }, signal);
    return { dir: 'backward', before: probe.high_watermark, logStart: probe.log_start_offset, done: false };
  }
  if (start === 'offset') {
    const probe = await api.records(topic, partition, { from: 'latest', limit: 1 }, signal);
    return { dir: 'backward', before: Math.min(offset + 1, probe.high_watermark), logStart: probe.log_start_offset, done: false };
  }
  // records strictly before the timestamp: below the first offset at or after it
  const probe = await api.records(topic, partition, { timestamp, limit: 1 }, signal);
  const before = probe.records[0]?.offset ?? probe.high_watermark;
  return { dir: 'backward', before, logStart: probe.log_start_offset, done: false };
}

/** Up to `limit` records of one partition from its cursor, oldest first. */
async function fetchFrom(topic: string, partition: number, cursor: Cursor, limit: number, waitMs: number, signal: AbortSignal): Promise<{ records: ConsumedRecord[]; cursor: Cursor }> {
  if (cursor.dir === 'forward') {
    const page = await api.records(topic, partition, { ...cursor.query, limit, ...(waitMs ? { wait_ms: waitMs } : {}) }, signal);
    const done = page.records.length === 0 && page.next_offset >= page.high_watermark;
    return { records: page.records, cursor: { dir: 'forward', query: { offset: page.next_offset }, done } };
  }
  const start = Math.max(cursor.logStart, cursor.before - limit);
  if (start >= cursor.before) return { records: [], cursor: { ...cursor, done: true } };
  const records: ConsumedRecord[] = [];
  let at = start;
  let logStart = cursor.logStart;
  // the API may answer with fewer records than asked (a size limit): read on up to `before`
  for (let i = 0; i < 20 && at < cursor.before; i++) {
    const page = await api.records(topic, partition, { offset: at, limit: cursor.before - at }, signal);
    logStart = page.log_start_offset;
    for (const r of page.records) if (r.offset < cursor.before) records.push(r);
    if (page.records.length === 0 || page.next_offset <= at) break;
    at = page.next_offset;
  }
  // nothing in this window (compacted away): the next page looks below it
  if (records.length === 0) return { records, cursor: { dir: 'backward', before: start, logStart, done: start <= logStart } };
  return { records, cursor: { dir: 'backward', before: cursor.before, logStart, done: false } };
}

function rowKey(r: Row): string {
  return `${r.partition}:${r.record.offset}`;
}

function matches(r: ConsumedRecord, needle: string): boolean {
  if (!needle) return true;
  const n = needle.toLowerCase();
  const has = (s: string | null) => s !== null && s.toLowerCase().includes(n);
  return has(r.key) || has(r.value) || r.headers.some((h) => has(h.key) || has(h.value)) || String(r.offset) === needle;
}

export function MessageBrowser({ topic }: { topic: TopicDescription }) {
  const partitions = topic.partitions.map((p) => p.partition);
  const [partition, setPartition] = useState<'all' | number>('all');
  const [start, setStart] = useState<Start>('latest');
  const [order, setOrder] = useState<Order>('newest');
  const [offsetText, setOffsetText] = useState('0');
  const [timeText, setTimeText] = useState(() => toDatetimeLocal(Date.now() - 3_600_000));
  const [limit, setLimit] = useState(100);
  const [filter, setFilter] = useState('');
  const [rows, setRows] = useState<Row[]>([]);
  const [cursors, setCursors] = useState<Map<number, Cursor>>(new Map());
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [fetched, setFetched] = useState(false);
  const [live, setLive] = useState(false);
  const ctrl = useRef<AbortController | null>(null);

  const effectiveOrder: Order = start === 'earliest' ? 'oldest' : order;
  const tail = start === 'latest' && effectiveOrder === 'oldest';

  useEffect(() => () => ctrl.current?.abort(), []);

  async function page(first: boolean) {
    ctrl.current?.abort();
    const c = new AbortController();
    ctrl.current = c;
    setLoading(true);
    setError(undefined);
    try {
      const which = partition === 'all' ? partitions : [partition];
      const offset = Number(offsetText);
      const timestamp = fromDatetimeLocal(timeText) ?? Date.now();
      if (start === 'offset' && !(Number.isInteger(offset) && offset >= 0)) throw new Error('the start offset must be a whole number ≥ 0');
      let current = cursors;
      if (first) {
        current = new Map();
        const made = await Promise.all(which.map(async (p) => [p, await firstCursor(topic.name, p, start, effectiveOrder, offset, timestamp, c.signal)] as const));
        for (const [p, cur] of made) current.set(p, cur);
      }
      const results = await Promise.all(
        which.map(async (p) => {
          const cur = current.get(p)!;
          if (cur.done && !tail) return { p, records: [] as ConsumedRecord[], cursor: cur };
          return { p, ...(await fetchFrom(topic.name, p, cur, limit, 0, c.signal)) };
        }),
      );
      if (c.signal.aborted) return;
      const all: Row[] = results.flatMap((r) => r.records.map((record) => ({ partition: r.p, record })));
      const backward = effectiveOrder === 'newest';
      all.sort((a, b) => {
        const c1 = a.record.timestamp - b.record.timestamp || a.partition - b.partition || a.record.offset - b.record.offset;
        return backward ? -c1 : c1;
      });
      const taken = all.slice(0, limit);
      const next = new Map(current);
      for (const r of results) {
        const mine = taken.filter((t) => t.partition === r.p);
        const cur = current.get(r.p)!;
        if (r.records.length === 0) {
          next.set(r.p, r.cursor);
        } else if (mine.length === r.records.length) {
          next.set(r.p, r.cursor.dir === 'backward' ? { ...r.cursor, before: Math.min(...mine.map((m) => m.record.offset)), done: Math.min(...mine.map((m) => m.record.offset)) <= r.cursor.logStart } : r.cursor);
        } else if (mine.length > 0) {
          // some records of this partition were left for the next page
          next.set(
            r.p,
            cur.dir === 'backward'
              ? { ...cur, before: Math.min(...mine.map((m) => m.record.offset)) }
              : { dir: 'forward', query: { offset: Math.max(...mine.map((m) => m.record.offset)) + 1 }, done: false },
          );
        }
      }
      setCursors(next);
      setRows((prev) => {
        const merged = first ? taken : [...prev, ...taken];
        return merged.length > MAX_ROWS ? merged.slice(merged.length - MAX_ROWS) : merged;
      });
      if (first) setExpanded(new Set());
      setFetched(true);
    } catch (err) {
      if (!(err instanceof DOMException && err.name === 'AbortError')) setError(err);
    } finally {
      if (ctrl.current === c) setLoading(false);
    }
  }

  // live tail: poll every partition's forward cursor each second
  useEffect(() => {
    if (!live) return;
    let stopped = false;
    const c = new AbortController();
    const which = partition === 'all' ? partitions : [partition];
    const cur = new Map<number, Cursor>(which.map((p) => [p, cursors.get(p) ?? { dir: 'forward', query: { from: 'latest' }, done: false }]));
    (async () => {
      while (!stopped) {
        try {
          const results = await Promise.all(
            which.map(async (p) => ({ p, ...(await fetchFrom(topic.name, p, cur.get(p)!, limit, which.length === 1 ? 5000 : 0, c.signal)) })),
          );
          const fresh: Row[] = [];
          for (const r of results) {
            cur.set(r.p, r.cursor);
            for (const record of r.records) fresh.push({ partition: r.p, record });
          }
          fresh.sort((a, b) => a.record.timestamp - b.record.timestamp || a.partition - b.partition || a.record.offset - b.record.offset);
          if (fresh.length > 0 && !stopped) setRows((prev) => [...prev, ...fresh].slice(-MAX_ROWS));
          setError(undefined);
        } catch (err) {
          if (stopped) return;
          setError(err);
          await new Promise((r) => setTimeout(r, 2000));
        }
        if (which.length > 1 && !stopped) await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    return () => {
      stopped = true;
      c.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [live]);

  const visible = useMemo(() => rows.filter((r) => matches(r.record, filter)), [rows, filter]);
  const more = [...cursors.values()].some((c) => !c.done);

  function toggle(k: string) {
    setExpanded((s) => {
      const n = new Set(s);
      if (n.has(k)) n.delete(k);
      else n.add(k);
      return n;
    });
  }

  function stopLive() {
    setLive(false);
  }

  return (
    <div class="messages">
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          stopLive();
          if (tail) {
            setRows([]);
            setCursors(new Map());
            setFetched(true);
            setLive(true);
          } else void page(true);
        }}
      >
        <label>
          Partition
          <select
            name="partition"
            value={String(partition)}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setPartition(v === 'all' ? 'all' : Number(v));
            }}
          >
            <option value="all">All partitions</option>
            {partitions.map((p) => (
              <option key={p} value={String(p)}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          Start
          <select name="start" value={start} onChange={(e) => setStart(e.currentTarget.value as Start)}>
            <option value="latest">Latest</option>
            <option value="earliest">Earliest</option>
            <option value="offset">Offset</option>
            <option value="timestamp">Timestamp</option>
          </select>
        </label>
        {start === 'offset' ? (
          <label>
            Offset
            <input name="offset" class="w-num" type="number" min="0" value={offsetText} onInput={(e) => setOffsetText(e.currentTarget.value)} />
          </label>
        ) : null}
        {start === 'timestamp' ? (
          <label>
            Time
            <input name="timestamp" type="datetime-local" step="1" value={timeText} onInput={(e) => setTimeText(e.currentTarget.value)} />
          </label>
        ) : null}
        <label>
          Order
          <select name="order" value={effectiveOrder} disabled={start === 'earliest'} onChange={(e) => setOrder(e.currentTarget.value as Order)}>
            <option value="newest">Newest first</option>
            <option value="oldest">{start === 'latest' ? 'Oldest first (live tail)' : 'Oldest first'}</option>
          </select>
        </label>
        <label>
          Limit
          <select name="limit" value={String(limit)} onChange={(e) => setLimit(Number(e.currentTarget.value))}>
            {[20, 50, 100, 200, 500, 1000].map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="btn btn-primary" disabled={loading}>
          {tail ? 'Tail' : 'Fetch'}
        </button>
        {live ? (
          <button type="button" class="btn" onClick={stopLive}>
            Stop tail
          </button>
        ) : null}
        <span class="grow" />
        <input type="search" class="search" name="filter" placeholder="Filter loaded messages" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      </form>
      <ErrorBox error={error} />
      {live ? <div class="muted small live-note">● live: new records appear at the bottom</div> : null}
      {!fetched ? (
        <Empty>Pick a partition and a start point, then Fetch.</Empty>
      ) : visible.length === 0 && !loading ? (
        <Empty>{rows.length === 0 ? 'No records here.' : 'No loaded record matches the filter.'}</Empty>
      ) : (
        <table class="grid messages-table" data-testid="messages">
          <thead>
            <tr>
              <th class="num">Partition</th>
              <th class="num">Offset</th>
              <th>Timestamp</th>
              <th>Key</th>
              <th>Value</th>
              <th class="num">Headers</th>
            </tr>
          </thead>
          <tbody>
            {visible.map((r) => {
              const k = rowKey(r);
              const open = expanded.has(k);
              const rec = r.record;
              return [
                <tr key={k} class={`record-row${open ? ' open' : ''}`} data-partition={r.partition} data-offset={rec.offset} onClick={() => toggle(k)} aria-expanded={open}>
                  <td class="num">{r.partition}</td>
                  <td class="num mono">{rec.offset}</td>
                  <td class="mono nowrap">{fmtTime(rec.timestamp)}</td>
                  <td class="cell-key">
                    <PayloadPreview value={rec.key} encoding={rec.key_encoding} />
                  </td>
                  <td class="cell-value">
                    <PayloadPreview value={rec.value} encoding={rec.value_encoding} />
                  </td>
                  <td class="num">{rec.headers.length || ''}</td>
                </tr>,
                open ? (
                  <tr key={`${k}-detail`} class="record-detail" data-partition={r.partition} data-offset={rec.offset}>
                    <td colSpan={6}>
                      <div class="detail-grid">
                        <div class="detail-meta">
                          <div>
                            <span class="muted">partition</span> {r.partition} <span class="muted">offset</span> {rec.offset} <span class="muted">timestamp</span> {fmtTime(rec.timestamp)} ({rec.timestamp})
                          </div>
                        </div>
                        <PayloadFull label="Key" value={rec.key} encoding={rec.key_encoding} />
                        <PayloadFull label="Value" value={rec.value} encoding={rec.value_encoding} />
                        <div class="payload-block">
                          <div class="payload-label">
                            Headers <span class="muted">{rec.headers.length}</span>
                          </div>
                          {rec.headers.length === 0 ? (
                            <span class="null">none</span>
                          ) : (
                            <table class="grid headers-table">
                              <tbody>
                                {rec.headers.map((h, i) => (
                                  <tr key={i}>
                                    <td class="mono">{visibleText(h.key)}</td>
                                    <td class="mono">
                                      <HeaderValue value={h.value} encoding={h.value_encoding} />
                                    </td>
                                  </tr>
                                ))}
                              </tbody>
                            </table>
                          )}
                        </div>
                      </div>
                    </td>
                  </tr>
                ) : null,
              ];
            })}
          </tbody>
        </table>
      )}
      <div class="messages-footer">
        <span class="muted">
          {fmtInt(rows.length)} loaded{filter ? `, ${fmtInt(visible.length)} shown` : ''}
          {rows.length >= MAX_ROWS ? ` (the last ${fmtInt(MAX_ROWS)} kept)` : ''}
        </span>
        {fetched && !live && more ? (
          <button type="button" class="btn" disabled={loading} onClick={() => void page(false)}>
            {effectiveOrder === 'newest' ? 'Load older' : 'Load newer'}
          </button>
        ) : null}
        {loading ? <span class="muted">loading…</span> : null}
      </div>
    </div>
  );
}
