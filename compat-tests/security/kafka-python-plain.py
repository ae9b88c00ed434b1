# kafka-python (Debian python3-kafka) over SASL_PLAINTEXT with PLAIN: produce, then consume.
import sys
from kafka import KafkaConsumer, KafkaProducer

bootstrap, topic, user, password = sys.argv[1:5]
common = dict(bootstrap_servers=bootstrap, security_protocol='SASL_PLAINTEXT', sasl_mechanism='PLAIN',
              sasl_plain_username=user, sasl_plain_password=password, api_version=(2, 5))
producer = KafkaProducer(**common)
for i in range(3):
    producer.send(topic, f'python-{i}'.encode()).get(timeout=20)
producer.close()
consumer = KafkaConsumer(topic, auto_offset_reset='earliest', consumer_timeout_ms=10000, **common)
values = []
for message in consumer:
    values.append(message.value.decode())
    if len(values) == 3:
        break
consumer.close()
print(','.join(values))
