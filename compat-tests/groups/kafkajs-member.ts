// A kafkajs group member run as its own process by the compat tests (node --import tsx).
// Prints JSON lines: {"type":"assigned","partitions":[...]} after every join and
// {"type":"record",...} after processing each record. SIGTERM = leave the group cleanly.
import { Kafka, logLevel } from 'kafkajs';

const [bootstrap, groupId, topic, name, fromBeginning] = process.argv.slice(2);
if (!bootstrap || !groupId || !topic || !name) throw new Error('usage: kafkajs-member <bootstrap> <group> <topic> <name> [earliest|latest]');

const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
const kafka = new Kafka({ clientId: `kjs-${name}`, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, rebalanceTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 250 });

consumer.on(consumer.events.GROUP_JOIN, (e) => {
  emit({ type: 'assigned', partitions: e.payload.memberAssignment[topic] ?? [], memberId: e.payload.memberId, leader: e.payload.isLeader });
});
consumer.on(consumer.events.CRASH, (e) => emit({ type: 'crash', error: String(e.payload.error) }));

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  consumer.disconnect().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});

await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: fromBeginning !== 'latest' });
await consumer.run({
  eachMessage: async ({ partition, message }) => {
    emit({ type: 'record', partition, offset: Number(message.offset), value: message.value?.toString() ?? '' });
  },
});
emit({ type: 'running' });
