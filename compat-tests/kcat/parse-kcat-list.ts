/** `kcat -L` text output, parsed. */
export interface KcatListing {
  /** From the header: which broker answered, as "host:port/nodeId". */
  originatingBroker: string;
  brokers: Array<{ id: number; host: string; port: number; controller: boolean }>;
  topics: Record<string, { error: string | null; partitions: Array<{ id: number; leader: number; replicas: number[]; isrs: number[] }> }>;
}

const HEADER = /^Metadata for .+ \(from broker -?\d+: (\S+)\):$/;
const BROKER = /^ {2}broker (-?\d+) at (.+):(\d+)( \(controller\))?$/;
// a topic-level error follows the colon, e.g. `topic "x" with 0 partitions: Broker: Unknown topic`
const TOPIC = /^ {2}topic "(.*)" with (\d+) partitions:(?: (.+))?$/;
const PARTITION = /^ {4}partition (\d+), leader (-?\d+), replicas: ([\d,]*), isrs: ([\d,]*)(?:, (.+))?$/;

function ids(list: string): number[] {
  return list === '' ? [] : list.split(',').map(Number);
}

/** Parses the listing; throws on any line it does not recognise so format drift is noticed. */
export function parseKcatList(text: string): KcatListing {
  const out: KcatListing = { originatingBroker: '', brokers: [], topics: {} };
  let topic: KcatListing['topics'][string] | undefined;
  let expectedBrokers = -1;
  let expectedTopics = -1;
  const declared = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m: RegExpExecArray | null;
    if ((m = HEADER.exec(line))) out.originatingBroker = m[1]!;
    else if ((m = /^ (\d+) brokers:$/.exec(line))) expectedBrokers = Number(m[1]);
    else if ((m = /^ (\d+) topics:$/.exec(line))) expectedTopics = Number(m[1]);
    else if ((m = BROKER.exec(line))) out.brokers.push({ id: Number(m[1]), host: m[2]!, port: Number(m[3]), controller: m[4] !== undefined });
    else if ((m = TOPIC.exec(line))) {
      topic = { error: m[3] ?? null, partitions: [] };
      out.topics[m[1]!] = topic;
      declared.set(m[1]!, Number(m[2]));
    } else if ((m = PARTITION.exec(line)) && topic) {
      if (m[5] !== undefined) throw new Error(`partition error in kcat listing: ${line}`);
      topic.partitions.push({ id: Number(m[1]), leader: Number(m[2]), replicas: ids(m[3]!), isrs: ids(m[4]!) });
    } else throw new Error(`unrecognised kcat -L line: ${JSON.stringify(line)}`);
  }
  if (expectedBrokers !== out.brokers.length) throw new Error(`kcat announced ${expectedBrokers} brokers, listed ${out.brokers.length}`);
  if (expectedTopics !== Object.keys(out.topics).length) throw new Error(`kcat announced ${expectedTopics} topics, listed ${Object.keys(out.topics).length}`);
  for (const [name, count] of declared) {
    if (out.topics[name]!.partitions.length !== count) throw new Error(`kcat announced ${count} partitions for ${name}, listed ${out.topics[name]!.partitions.length}`);
  }
  return out;
}
