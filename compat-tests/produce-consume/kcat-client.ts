import { PARTITIONS, type Codec, type PlannedRecord, type ReadRecord } from './matrix-layout.js';
import { runBinary } from './run-binary.js';

export const KCAT = '/usr/bin/kcat';

// ASCII record and unit separators: never part of a planned key or value
const MESSAGE_DELIMITER = 0x1e;
const KEY_DELIMITER = 0x1f;

export interface KcatProduceWindow {
  partition: number;
  /** Wall clock (ms) just before kcat started and just after it exited: CreateTime lies within. */
  startedMs: number;
  endedMs: number;
}

/**
 * kcat 1.7 has no option to set a message timestamp (librdkafka stamps CreateTime at produce
 * time), and -p/-H apply to a whole invocation, so each partition gets one kcat run: stdin is
 * `key\x1fvalue` messages separated by \x1e, headers come from -H (`-H name` is a null value,
 * `-H name=` an empty one). linger.ms keeps the three messages in one batch.
 */
export async function kcatProduce(bootstrap: string, topic: string, codec: Codec, records: PlannedRecord[]): Promise<KcatProduceWindow[]> {
  const windows: KcatProduceWindow[] = [];
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const mine = records.filter((r) => r.partition === partition);
    if (mine.length === 0) continue;
    const headerArgs = mine[0]!.headers.flatMap(([k, v]) => ['-H', v === null ? k : `${k}=${v.toString('utf8')}`]);
    const input = Buffer.concat(mine.flatMap((r, i) => [...(i > 0 ? [Buffer.from([MESSAGE_DELIMITER])] : []), r.key, Buffer.from([KEY_DELIMITER]), r.value]));
    const args = ['-P', '-q', '-b', bootstrap, '-t', topic, '-p', String(partition), '-K', '\\x1f', '-D', '\\x1e', ...headerArgs, '-X', 'linger.ms=200', '-X', 'acks=all'];
    if (codec !== 'none') args.push('-z', codec);
    const startedMs = Date.now();
    const res = await runBinary(KCAT, args, { input, timeoutMs: 30000 });
    const endedMs = Date.now();
    if (res.code !== 0) throw new Error(`kcat -P (${codec}, p${partition}) exited with ${res.code}: ${res.stderr}`);
    windows.push({ partition, startedMs, endedMs });
  }
  return windows;
}

/** Everything on the line before the raw key and value; lengths let binary data be cut out exactly. */
const FORMAT = '%p|%o|%T|%K|%S|%h\\n%k%s\\n';

/** Parses kcat -f FORMAT output (bytes) into records. */
export function parseKcatOutput(topic: string, out: Buffer): ReadRecord[] {
  const records: ReadRecord[] = [];
  let pos = 0;
  while (pos < out.length) {
    const eol = out.indexOf(0x0a, pos);
    if (eol < 0) throw new Error(`kcat output: unterminated line at byte ${pos}`);
    const fields = out.subarray(pos, eol).toString('utf8').split('|');
    if (fields.length !== 6) throw new Error(`kcat output: bad line ${JSON.stringify(fields.join('|'))}`);
    const [partition, offset, timestamp, keyLen, valueLen, headers] = fields as [string, string, string, string, string, string];
    pos = eol + 1;
    const take = (len: number): Buffer | null => {
      if (len < 0) return null;
      const b = out.subarray(pos, pos + len);
      if (b.length !== len) throw new Error(`kcat output: truncated at byte ${pos}`);
      pos += len;
      return b;
    };
    const key = take(Number(keyLen));
    const value = take(Number(valueLen));
    if (out[pos] !== 0x0a) throw new Error(`kcat output: no newline after the value at byte ${pos}`);
    pos += 1;
    records.push({
      topic,
      partition: Number(partition),
      offset: Number(offset),
      timestamp: Number(timestamp),
      key: key === null ? null : key.toString('base64'),
      value: value === null ? null : value.toString('base64'),
      headers: headers === '' ? [] : headers.split(',').map((h): [string, string | null] => {
        const eq = h.indexOf('=');
        const v = h.slice(eq + 1);
        // kcat prints a null header value as NULL; no planned header has that text
        return [h.slice(0, eq), v === 'NULL' ? null : Buffer.from(v, 'utf8').toString('base64')];
      }),
    });
  }
  return records;
}

/** kcat -C -e from the beginning of every partition, one run per topic, CRCs checked. */
export async function kcatRead(bootstrap: string, topics: string[]): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  for (const topic of topics) {
    const res = await runBinary(KCAT, ['-C', '-q', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-X', 'check.crcs=true', '-f', FORMAT], { timeoutMs: 30000 });
    if (res.code !== 0) throw new Error(`kcat -C ${topic} exited with ${res.code}: ${res.stderr}`);
    out.push(...parseKcatOutput(topic, res.stdout));
  }
  return out;
}
