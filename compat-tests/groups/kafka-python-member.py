"""A kafka-python group member run as its own process by the compat tests.

usage: kafka-python-member.py <bootstrap> <group> <topic> <name>

Prints JSON lines like confluent-member.py. SIGTERM closes the consumer (commit, then
LeaveGroup).
"""
import json
import signal
import sys

from kafka import ConsumerRebalanceListener, KafkaConsumer

bootstrap, group, topic, name = sys.argv[1:5]


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Listener(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        emit({"type": "assigned", "partitions": []})

    def on_partitions_assigned(self, assigned):
        emit({"type": "assigned", "partitions": sorted(tp.partition for tp in assigned if tp.topic == topic)})


consumer = KafkaConsumer(
    bootstrap_servers=bootstrap,
    group_id=group,
    client_id="kp-" + name,
    auto_offset_reset="earliest",
    enable_auto_commit=True,
    auto_commit_interval_ms=200,
    session_timeout_ms=6000,
    heartbeat_interval_ms=500,
    fetch_max_wait_ms=100,
)
running = True


def stop(signum, frame):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
consumer.subscribe([topic], listener=Listener())
emit({"type": "running"})
while running:
    batches = consumer.poll(timeout_ms=100)
    for tp, records in batches.items():
        for r in records:
            emit({"type": "record", "partition": r.partition, "offset": r.offset, "value": r.value.decode()})
consumer.close()
