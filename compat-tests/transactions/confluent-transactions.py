"""Transactions with confluent-kafka (librdkafka): a transactional producer, readers at either
isolation level, and watermark queries. Prints one JSON document.

Usage: confluent-transactions.py < '{"bootstrap": "host:port", "ops": [{"op": "...", ...}, ...]}'
Prints {"results": [<one entry per op, in order>], "errors": [<error callback reports>]}.
Keys and values are UTF-8 text.

Ops:
  transactions  {topic, transactional_id, transactions: [{commit: bool, records: [{partition, key, value}]}]}
                One producer (transactional.id, enable.idempotence): init_transactions(), then
                per transaction begin, produce, flush (every record is written before the
                transaction ends, so an aborted one really is in the log), commit or abort.
                -> [{"commit": bool, "reports": [{partition, offset, key, value, error}]}]
  read          {topic, partitions, isolation: "read_committed" | "read_uncommitted"}
                Asks for the watermarks at that isolation level, then reads every partition from
                its beginning until the end offset (partition EOF at or past it).
                -> {"high": {p: n}, "records": [[partition, offset, key, value], ...]} in arrival order
  watermarks    {topic, partitions} -> {"read_committed": {p: [low, high]}, "read_uncommitted": {...}}
  zombie        {topic, transactional_id, first, late, second: [records]}
                Two producers with one transactional id: the first begins a transaction and
                writes `first`; the second initialises; the first writes `late`, flushes and
                tries to commit; the second commits `second` in a transaction.
                -> {"first": reports, "late": reports, "flush": ok|error, "commit": ok|error, "second": reports}
                (errors as {code, name, fatal, retriable, txn_requires_abort})
  open_transaction {topic, transactional_id, records: [{partition, key, value}], commit: bool}
                Begins a transaction, produces and flushes the records, takes the watermarks at
                both isolation levels while it is open, then ends it as told. (Kafka answers
                EndTxn before the markers are written: the caller polls the watermarks after.)
                -> {"reports": [...], "open": <watermarks>}
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

TIMEOUT_S = 30
ERRORS = []


def on_error(err):
    ERRORS.append({"code": err.code(), "name": err.name(), "message": err.str()})


def text(b):
    return None if b is None else b.decode()


def error_json(err):
    return None if err is None else {"code": err.code(), "name": err.name(), "message": err.str()}


def transactional_producer(bootstrap, transactional_id):
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "transactional.id": transactional_id,
        "enable.idempotence": True,
        "linger.ms": 5,
        "error_cb": on_error,
    })
    producer.init_transactions(TIMEOUT_S)
    return producer


def produce_all(producer, topic, records):
    reports = []

    def delivered(err, msg):
        reports.append({"partition": msg.partition(), "offset": msg.offset(), "key": text(msg.key()), "value": text(msg.value()), "error": error_json(err)})

    for r in records:
        producer.produce(topic, key=r["key"].encode(), value=r["value"].encode(), partition=r["partition"], on_delivery=delivered)
    remaining = producer.flush(TIMEOUT_S)
    if remaining != 0:
        raise RuntimeError(f"{remaining} records not delivered within {TIMEOUT_S}s")
    return reports


def transactions(bootstrap, op):
    producer = transactional_producer(bootstrap, op["transactional_id"])
    out = []
    for txn in op["transactions"]:
        producer.begin_transaction()
        reports = produce_all(producer, op["topic"], txn["records"])
        if txn["commit"]:
            producer.commit_transaction(TIMEOUT_S)
        else:
            producer.abort_transaction(TIMEOUT_S)
        out.append({"commit": txn["commit"], "reports": reports})
    return out


def consumer_for(bootstrap, isolation):
    return Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "txn-reader",
        "isolation.level": isolation,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 50,
        "error_cb": on_error,
    })


def watermarks_with(consumer, topic, partitions):
    return {str(p): list(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=15, cached=False)) for p in range(partitions)}


def watermarks(bootstrap, op):
    out = {}
    for isolation in ("read_committed", "read_uncommitted"):
        consumer = consumer_for(bootstrap, isolation)
        out[isolation] = watermarks_with(consumer, op["topic"], op["partitions"])
        consumer.close()
    return out


def read(bootstrap, op):
    topic = op["topic"]
    consumer = consumer_for(bootstrap, op["isolation"])
    marks = watermarks_with(consumer, topic, op["partitions"])
    high = {p: marks[str(p)][1] for p in range(op["partitions"])}
    consumer.assign([TopicPartition(topic, p, 0) for p in range(op["partitions"]) if high[p] > 0])
    remaining = {p for p in range(op["partitions"]) if high[p] > 0}
    records = []
    deadline = time.monotonic() + TIMEOUT_S
    while remaining:
        if time.monotonic() > deadline:
            raise RuntimeError(f"partitions {sorted(remaining)} not read to their end offsets {high} in {TIMEOUT_S}s")
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                if msg.offset() >= high[msg.partition()]:
                    remaining.discard(msg.partition())
                continue
            raise RuntimeError(f"consume error: {msg.error()}")
        records.append([msg.partition(), msg.offset(), text(msg.key()), text(msg.value())])
    consumer.close()
    return {"high": {str(p): h for p, h in high.items()}, "records": records}


def open_transaction(bootstrap, op):
    producer = transactional_producer(bootstrap, op["transactional_id"])
    producer.begin_transaction()
    reports = produce_all(producer, op["topic"], op["records"])
    opened = watermarks(bootstrap, {"topic": op["topic"], "partitions": op["partitions"]})
    if op["commit"]:
        producer.commit_transaction(TIMEOUT_S)
    else:
        producer.abort_transaction(TIMEOUT_S)
    return {"reports": reports, "open": opened}


def kafka_exception_json(e):
    err = e.args[0]
    return {"code": err.code(), "name": err.name(), "fatal": err.fatal(), "retriable": err.retriable(), "txn_requires_abort": err.txn_requires_abort()}


def zombie(bootstrap, op):
    """Two producers with one transactional id: the first writes, the second initialises, the
    first writes more and tries to commit; the second commits a transaction."""
    topic = op["topic"]
    first = transactional_producer(bootstrap, op["transactional_id"])
    first.begin_transaction()
    first_reports = produce_all(first, topic, op["first"])
    second = transactional_producer(bootstrap, op["transactional_id"])
    late_reports = []

    def delivered(err, msg):
        late_reports.append({"partition": msg.partition(), "offset": msg.offset(), "key": text(msg.key()), "value": text(msg.value()), "error": error_json(err)})

    for r in op["late"]:
        first.produce(topic, key=r["key"].encode(), value=r["value"].encode(), partition=r["partition"], on_delivery=delivered)
    try:
        first.flush(TIMEOUT_S)
        flush = {"ok": True}
    except Exception as e:
        flush = kafka_exception_json(e)
    try:
        first.commit_transaction(TIMEOUT_S)
        commit = {"ok": True}
    except Exception as e:  # KafkaException carrying a KafkaError
        commit = kafka_exception_json(e)
    second.begin_transaction()
    second_reports = produce_all(second, topic, op["second"])
    second.commit_transaction(TIMEOUT_S)
    return {"first": first_reports, "late": late_reports, "flush": flush, "commit": commit, "second": second_reports}


OPS = {"zombie": zombie, "transactions": transactions, "read": read, "watermarks": watermarks, "open_transaction": open_transaction}


def main():
    req = json.load(sys.stdin)
    results = [OPS[op["op"]](req["bootstrap"], op) for op in req["ops"]]
    sys.stdout.write(json.dumps({"results": results, "errors": ERRORS}))


if __name__ == "__main__":
    main()
