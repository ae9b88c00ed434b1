# confluent-kafka (librdkafka) over SASL_PLAINTEXT with OAUTHBEARER: the token comes from
# oauth_cb (the JWT is handed in by the test on stdin); produce N records, then read M from the start.
import sys, time
from confluent_kafka import Consumer, Producer

bootstrap, topic, count, read_count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
token = sys.stdin.read().strip()
common = {'bootstrap.servers': bootstrap, 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'OAUTHBEARER',
          'oauth_cb': lambda _config: (token, time.time() + 300)}
producer = Producer(dict(common, **{'enable.idempotence': False}))
errors = []
for i in range(count):
    producer.produce(topic, f'oauth-{i}'.encode(), partition=0, on_delivery=lambda err, _msg: err and errors.append(str(err)))
producer.flush(30)
if errors:
    print('delivery errors: ' + '; '.join(errors), file=sys.stderr)
    sys.exit(1)
consumer = Consumer(dict(common, **{'group.id': 'oauth-check', 'auto.offset.reset': 'earliest', 'enable.auto.commit': False}))
consumer.subscribe([topic])
values = []
deadline = time.time() + 30
while len(values) < read_count and time.time() < deadline:
    m = consumer.poll(1.0)
    if m is None:
        continue
    if m.error():
        print(f'consume error: {m.error()}', file=sys.stderr)
        sys.exit(1)
    values.append(m.value().decode())
consumer.close()
print(','.join(values))
