"""Reads whole partitions with confluent-kafka (manual assign, no consumer group).

Usage: durable-reader.py '{"bootstrap": "host:port", "topic": "t", "partitions": 3}'

For every partition, asks the broker for its watermarks, reads from the low watermark
(log start) up to the high watermark and prints one JSON document:
  {"partitions": {"0": {"low": n, "high": n, "records": [[offset, key, value, timestamp,
                                                        [[header, value], ...]], ...]}}}
Keys, values and header values are UTF-8 strings (or null). Exits non-zero if a
partition cannot be read to its high watermark within the timeout.
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, TopicPartition

TIMEOUT_S = 60


def text(b):
    return None if b is None else b.decode()


def main():
    cfg = json.loads(sys.argv[1])
    topic = cfg["topic"]
    consumer = Consumer({
        "bootstrap.servers": cfg["bootstrap"],
        # librdkafka wants a group id even though nothing here joins or commits to a group
        "group.id": "durable-reader",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 50,
    })
    out = {}
    assignment = []
    for p in range(cfg["partitions"]):
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=15)
        out[str(p)] = {"low": low, "high": high, "records": []}
        if high > low:
            assignment.append(TopicPartition(topic, p, low))
    consumer.assign(assignment)
    remaining = {tp.partition for tp in assignment}
    deadline = time.monotonic() + TIMEOUT_S
    while remaining:
        if time.monotonic() > deadline:
            sys.stderr.write(f"partitions {sorted(remaining)} not read to their high watermark in {TIMEOUT_S}s\n")
            sys.exit(2)
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        p = msg.partition()
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                if msg.offset() >= out[str(p)]["high"]:
                    remaining.discard(p)
                continue
            sys.stderr.write(f"consume error on partition {p}: {msg.error()}\n")
            sys.exit(3)
        part = out[str(p)]
        if msg.offset() >= part["high"]:
            remaining.discard(p)
            continue
        headers = [[k, text(v)] for k, v in (msg.headers() or [])]
        part["records"].append([msg.offset(), text(msg.key()), text(msg.value()), msg.timestamp()[1], headers])
        if msg.offset() == part["high"] - 1:
            remaining.discard(p)
    consumer.close()
    sys.stdout.write(json.dumps({"partitions": out}))


if __name__ == "__main__":
    main()
