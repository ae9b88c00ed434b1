"""Produces and reads records with confluent-kafka (librdkafka) and prints the outcome as JSON.

Usage: confluent-produce-consume.py < '{"bootstrap": "host:port", "ops": [{"op": "...", ...}, ...]}'
(the request is read from standard input: record lists can exceed argv limits).
Prints one JSON document: {"results": [<one entry per op, in order>], "logs": [...], "errors": [...]}.
Keys, values and header values travel as base64; null stays null. "logs" holds librdkafka's
log lines and "errors" what its error callback reported, so a test can see e.g. which
requests the broker refused.

Ops:
  produce          {topic, codec, records: [{partition, key, value, headers, timestamp}], config?}
                   -> {"reports": [{partition, offset, key, error}]} in delivery order;
                   with "rounds": [[records], ...] instead of "records", one producer sends
                   each round and flushes before the next
  read             {topics: [{name, partitions}], config?}
                   -> {"records": [...], "eof": {"topic/partition": offset}} (assign() + explicit offsets)
  offsets_for_times {topic, queries: [{partition, timestamp}]} -> [{partition, offset, error}]
"""
import base64
import ctypes
import json
import logging
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

TIMEOUT_S = 30
LOGS = []
ERRORS = []


class ListHandler(logging.Handler):
    def emit(self, record):
        LOGS.append(record.getMessage())


LOGGER = logging.getLogger("librdkafka")
LOGGER.setLevel(logging.DEBUG)
LOGGER.addHandler(ListHandler())
LOGGER.propagate = False


def on_error(err):
    ERRORS.append({"code": err.code(), "name": err.name(), "message": err.str()})


def b64(b):
    return None if b is None else base64.b64encode(b).decode("ascii")


def unb64(s):
    return None if s is None else base64.b64decode(s)


def produce(bootstrap, op):
    conf = {
        "bootstrap.servers": bootstrap,
        "compression.type": op["codec"],
        "acks": "all",
        "linger.ms": 200,
        "error_cb": on_error,
        "logger": LOGGER,
    }
    conf.update(op.get("config", {}))
    producer = Producer(conf)
    # learn the leaders first, so the records of a partition leave together in one batch
    producer.list_topics(op["topic"], timeout=TIMEOUT_S)
    reports = []

    def on_delivery(err, msg):
        reports.append({
            "partition": msg.partition(),
            "offset": msg.offset(),
            "key": b64(msg.key()),
            "error": None if err is None else {"code": err.code(), "name": err.name(), "message": err.str()},
        })

    for records in op.get("rounds", [op.get("records")]):
        for r in records:
            kwargs = {
                "partition": r["partition"],
                "key": unb64(r["key"]),
                "value": unb64(r["value"]),
                "headers": [(k, unb64(v)) for k, v in r["headers"]],
                "on_delivery": on_delivery,
            }
            if r["timestamp"] is not None:
                kwargs["timestamp"] = r["timestamp"]
            producer.produce(op["topic"], **kwargs)
        left = producer.flush(TIMEOUT_S)
        if left:
            raise RuntimeError(f"{left} messages not delivered after {TIMEOUT_S}s")
    return {"reports": reports}


def headers_of(msg):
    headers = msg.headers() or []
    for _, v in headers:
        # confluent-kafka 1.7 hands out None header values without a reference of their own
        # (confluentinc/confluent-kafka-python#1191), which crashes the interpreter at exit
        # with "deallocating None"; give each one the reference it should have had
        if v is None:
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(None))
    return [[k, b64(v)] for k, v in headers]


def read(bootstrap, op):
    conf = {
        "bootstrap.servers": bootstrap,
        # librdkafka's Consumer requires a group.id; nothing is subscribed or committed
        "group.id": "streamhouse-compat-assign-only",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "check.crcs": True,
        "auto.offset.reset": "error",
        "error_cb": on_error,
        "logger": LOGGER,
    }
    conf.update(op.get("config", {}))
    consumer = Consumer(conf)
    assignment = [TopicPartition(t["name"], p, 0) for t in op["topics"] for p in range(t["partitions"])]
    consumer.assign(assignment)
    pending = {(tp.topic, tp.partition) for tp in assignment}
    eof = {}
    records = []
    deadline = time.monotonic() + TIMEOUT_S
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no end of partition for {sorted(pending)} after {TIMEOUT_S}s")
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        err = msg.error()
        if err is not None:
            if err.code() == KafkaError._PARTITION_EOF:
                pending.discard((msg.topic(), msg.partition()))
                eof[f"{msg.topic()}/{msg.partition()}"] = msg.offset()
                continue
            raise RuntimeError(f"consume error: {err.name()} {err.str()}")
        ts_type, ts = msg.timestamp()
        records.append({
            "topic": msg.topic(),
            "partition": msg.partition(),
            "offset": msg.offset(),
            "timestamp": ts,
            "timestampType": ts_type,
            "key": b64(msg.key()),
            "value": b64(msg.value()),
            "headers": headers_of(msg),
        })
    consumer.close()
    return {"records": records, "eof": eof}


def offsets_for_times(bootstrap, op):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "streamhouse-compat-assign-only",
        "enable.auto.commit": False,
        "error_cb": on_error,
        "logger": LOGGER,
    })
    out = []
    # one call per query: a partition may appear only once per request
    for q in op["queries"]:
        [tp] = consumer.offsets_for_times([TopicPartition(op["topic"], q["partition"], q["timestamp"])], timeout=TIMEOUT_S)
        out.append({"partition": tp.partition, "offset": tp.offset, "error": None if tp.error is None else tp.error.name()})
    consumer.close()
    return out


OPS = {"produce": produce, "read": read, "offsets_for_times": offsets_for_times}


def main():
    req = json.load(sys.stdin)
    results = [OPS[op["op"]](req["bootstrap"], op) for op in req["ops"]]
    json.dump({"results": results, "logs": LOGS, "errors": ERRORS}, sys.stdout)


if __name__ == "__main__":
    main()
