"""A confluent-kafka (librdkafka) group member run as its own process by the compat tests.

usage: confluent-member.py <bootstrap> <group> <topic> <name> [extra-config-json]

Prints JSON lines: {"type":"assigned","partitions":[...]} with the member's whole current
assignment after every change (the cooperative protocol assigns and revokes
incrementally), {"type":"record",...} per processed record. SIGTERM closes the consumer,
which leaves the group (dynamic members) and commits what was processed.
"""
import json
import signal
import sys

from confluent_kafka import Consumer

bootstrap, group, topic, name = sys.argv[1:5]
extra = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


config = {
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "client.id": "cf-" + name,
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": True,
    "auto.commit.interval.ms": 200,
    "fetch.wait.max.ms": 100,
}
config.update(extra)
consumer = Consumer(config)
owned = set()
cooperative = config.get("partition.assignment.strategy") == "cooperative-sticky"


def on_assign(c, partitions):
    global owned
    mine = {p.partition for p in partitions if p.topic == topic}
    owned = owned | mine if cooperative else mine
    if cooperative:
        c.incremental_assign(partitions)
    else:
        c.assign(partitions)
    emit({"type": "assigned", "partitions": sorted(owned), "protocol": c.rebalance_protocol() if hasattr(c, "rebalance_protocol") else None})


def on_revoke(c, partitions):
    global owned
    gone = {p.partition for p in partitions if p.topic == topic}
    owned = owned - gone if cooperative else set()
    if cooperative:
        c.incremental_unassign(partitions)
    else:
        c.unassign()
    emit({"type": "assigned", "partitions": sorted(owned)})


running = True


def stop(signum, frame):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)
consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
emit({"type": "running"})
while running:
    msg = consumer.poll(0.1)
    if msg is None:
        continue
    if msg.error():
        emit({"type": "error", "error": str(msg.error())})
        continue
    emit({"type": "record", "partition": msg.partition(), "offset": msg.offset(), "value": msg.value().decode()})
consumer.close()
