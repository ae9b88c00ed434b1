// The produce form of a topic page: one record with an optional key, partition and headers.

import { useState } from 'preact/hooks';
import { api, type Encoding, type ProduceRequest, type ProduceResponse, type TopicDescription } from './api';
import { ErrorBox } from './ui';

export function ProduceForm({ topic, onProduced }: { topic: TopicDescription; onProduced?: () => void }) {
  const [partition, setPartition] = useState<'auto' | number>('auto');
  const [key, setKey] = useState('');
  const [noKey, setNoKey] = useState(false);
  const [keyEncoding, setKeyEncoding] = useState<Encoding>('text');
  const [value, setValue] = useState('');
  const [valueEncoding, setValueEncoding] = useState<Encoding>('text');
  const [headers, setHeaders] = useState<Array<{ key: string; value: string }>>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [result, setResult] = useState<ProduceResponse | undefined>(undefined);

  async function submit(e: Event) {
    e.preventDefault();
    setError(undefined);
    setResult(undefined);
    if (valueEncoding === 'json') {
      try {
        JSON.parse(value);
      } catch (err) {
        setError(new Error(`the value is not valid JSON: ${(err as Error).message}`));
        return;
      }
    }
    // JSON is checked here and sent as the text written (the API's "json" encoding would
    // store a re-serialization, rounding big numbers)
    const body: ProduceRequest = { topic: topic.name, value, value_encoding: valueEncoding === 'json' ? 'text' : valueEncoding };
    if (partition !== 'auto') body.partition = partition;
    if (!noKey) {
      body.key = key;
      body.key_encoding = keyEncoding === 'json' ? 'text' : keyEncoding;
    }
    const hs = headers.filter((h) => h.key !== '');
    if (hs.length > 0) body.headers = hs;
    setBusy(true);
    try {
      setResult(await api.produce(body));
      onProduced?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const setHeader = (i: number, field: 'key' | 'value', v: string) => setHeaders((hs) => hs.map((h, j) => (j === i ? { ...h, [field]: v } : h)));

  return (
    <form class="form produce-form" onSubmit={(e) => void submit(e)}>
      <div class="form-row">
        <label>
          Partition
          <select name="partition" value={String(partition)} onChange={(e) => setPartition(e.currentTarget.value === 'auto' ? 'auto' : Number(e.currentTarget.value))}>
            <option value="auto">by key (default partitioner)</option>
            {topic.partitions.map((p) => (
              <option key={p.partition} value={String(p.partition)}>
                {p.partition}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="form-row">
        <label class="grow">
          Key
          <input name="key" type="text" value={key} disabled={noKey} onInput={(e) => setKey(e.currentTarget.value)} placeholder="(empty)" />
        </label>
        <label>
          Key encoding
          <select name="key_encoding" value={keyEncoding} onChange={(e) => setKeyEncoding(e.currentTarget.value as Encoding)}>
            <option value="text">text (UTF-8)</option>
            <option value="base64">base64</option>
          </select>
        </label>
        <label class="check">
          <input type="checkbox" name="null_key" checked={noKey} onChange={(e) => setNoKey(e.currentTarget.checked)} /> null key
        </label>
      </div>
      <div class="form-row">
        <label class="grow">
          Value
          <textarea name="value" rows={6} value={value} onInput={(e) => setValue(e.currentTarget.value)} spellcheck={false} />
        </label>
      </div>
      <div class="form-row">
        <label>
          Value encoding
          <select name="value_encoding" value={valueEncoding} onChange={(e) => setValueEncoding(e.currentTarget.value as Encoding)}>
            <option value="text">text (UTF-8)</option>
            <option value="json">JSON (checked, stored as written)</option>
            <option value="base64">base64 (binary)</option>
          </select>
        </label>
      </div>
      <div class="form-row column">
        <div class="label">Headers</div>
        {headers.map((h, i) => (
          <div class="header-row" key={i}>
            <input type="text" name={`header_key_${i}`} placeholder="key" value={h.key} onInput={(e) => setHeader(i, 'key', e.currentTarget.value)} />
            <input type="text" name={`header_value_${i}`} placeholder="value" value={h.value} onInput={(e) => setHeader(i, 'value', e.currentTarget.value)} />
            <button type="button" class="btn btn-small" onClick={() => setHeaders((hs) => hs.filter((_, j) => j !== i))} aria-label="Remove header">
              ✕
            </button>
          </div>
        ))}
        <div>
          <button type="button" class="btn btn-small" onClick={() => setHeaders((hs) => [...hs, { key: '', value: '' }])}>
            + Add header
          </button>
        </div>
      </div>
      <div class="form-row">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          Produce
        </button>
        {result ? (
          <span class="alert-inline ok" data-testid="produce-result">
            Produced to partition {result.offsets[0]?.partition} at offset {result.offsets[0]?.offset}
          </span>
        ) : null}
      </div>
      <ErrorBox error={error} />
    </form>
  );
}
