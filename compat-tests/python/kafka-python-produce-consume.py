"""Produces and reads records with kafka-python and prints the outcome as JSON.

Usage: kafka-python-produce-consume.py < '{"bootstrap": "host:port", "ops": [{"op": "...", ...}, ...]}'
(the request is read from standard input). Prints {"results": [<one entry per op, in order>]}.
Keys, values and header values travel as base64; null stays null. snappy, lz4 and zstd need
the python3-snappy, python3-lz4 and python3-zstandard Debian packages.

Ops:
  produce {topic, codec, records: [{partition, key, value, headers, timestamp}]}
          -> {"reports": [{partition, offset}]} in record order
  read    {topics: [{name, partitions}]} -> {"records": [...]} (no group: assign() and seek)
"""
import base64
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

TIMEOUT_S = 30


def b64(b):
    return None if b is None else base64.b64encode(b).decode("ascii")


def unb64(s):
    return None if s is None else base64.b64decode(s)


def produce(bootstrap, op):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        compression_type=None if op["codec"] == "none" else op["codec"],
        acks="all",
        linger_ms=200,
        batch_size=1024 * 1024,
    )
    futures = []
    for r in op["records"]:
        futures.append(producer.send(
            op["topic"],
            value=unb64(r["value"]),
            key=unb64(r["key"]),
            headers=[(k, unb64(v)) for k, v in r["headers"]],
            partition=r["partition"],
            timestamp_ms=r["timestamp"],
        ))
    producer.flush(TIMEOUT_S)
    reports = []
    for f in futures:
        md = f.get(timeout=TIMEOUT_S)
        reports.append({"partition": md.partition, "offset": md.offset})
    producer.close(TIMEOUT_S)
    return {"reports": reports}


def read(bootstrap, op):
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        check_crcs=True,
        auto_offset_reset="earliest",
    )
    tps = [TopicPartition(t["name"], p) for t in op["topics"] for p in range(t["partitions"])]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    ends = consumer.end_offsets(tps)
    records = []
    deadline = time.monotonic() + TIMEOUT_S
    while any(consumer.position(tp) < ends[tp] for tp in tps):
        if time.monotonic() > deadline:
            raise RuntimeError(f"positions {[(tp, consumer.position(tp), ends[tp]) for tp in tps]} after {TIMEOUT_S}s")
        for tp, msgs in consumer.poll(timeout_ms=500).items():
            for m in msgs:
                records.append({
                    "topic": m.topic,
                    "partition": m.partition,
                    "offset": m.offset,
                    "timestamp": m.timestamp,
                    "timestampType": m.timestamp_type,
                    "key": b64(m.key),
                    "value": b64(m.value),
                    "headers": [[k, b64(v)] for k, v in m.headers],
                })
    consumer.close()
    return {"records": records, "ends": {f"{tp.topic}/{tp.partition}": off for tp, off in ends.items()}}


OPS = {"produce": produce, "read": read}


def main():
    req = json.load(sys.stdin)
    json.dump({"results": [OPS[op["op"]](req["bootstrap"], op) for op in req["ops"]]}, sys.stdout)


if __name__ == "__main__":
    main()
