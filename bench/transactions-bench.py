"""confluent-kafka (librdkafka) producer runs for bench/transactions.ts. Prints one JSON line.

Usage: transactions-bench.py '{"bootstrap", "topic", "partitions", "record_size", "seconds",
                               "mode": "idempotent" | "flush" | "transactional",
                               "commits_per_s", "transactional_id", "linger_ms"}'

idempotent     enable.idempotence (acks=all), produce as fast as the client can for `seconds`,
               then flush; throughput counts delivered records.
flush          the same producer, but every 1/commits_per_s seconds it stops and flushes
               (the barrier a transaction's commit imposes, without the transaction).
transactional  transactional.id: begin_transaction, produce as fast as possible until the
               slot of 1/commits_per_s seconds ends, then flush() and commit_transaction().
               The commit latency is flush + commit_transaction (what commit_transaction alone
               would take: it flushes first); endTxnMs is commit_transaction's part (EndTxn,
               the coordinator writing the markers and the offsets). When
               a commit overruns its slot the next transaction starts at once with a whole
               slot (the achieved commit rate is reported).
Every mode first writes 10 records per partition and flushes (commits), not measured.
records_per_s (optional) paces any mode to that offered load instead of as fast as possible.
Records go round-robin over the partitions; at most max_queued (default 10,000; bench/transactions.ts passes 2,000) records
wait in the client at a time (queue.buffering.max.messages), so a commit never has to flush
an unbounded backlog.
"""
import json
import os
import resource
import sys
import time

from confluent_kafka import KafkaException, Producer


def main():
    cfg = json.loads(sys.argv[1])
    mode = cfg["mode"]
    errors = {}

    def on_error(err):
        errors[err.name()] = errors.get(err.name(), 0) + 1

    conf = {
        "bootstrap.servers": cfg["bootstrap"],
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": cfg.get("linger_ms", 5),
        "batch.size": 1048576,
        # a bounded local queue (the same for every mode): a commit flushes at most this much
        "queue.buffering.max.messages": cfg.get("max_queued", 10000),
        "error_cb": on_error,
    }
    if mode == "transactional":
        conf["transactional.id"] = cfg["transactional_id"]
    if cfg.get("debug"):
        conf["debug"] = cfg["debug"]
    delivered = [0]
    failed = [0]

    def on_delivery(err, _msg):
        if err is None:
            delivered[0] += 1
        else:
            failed[0] += 1
            errors[err.name()] = errors.get(err.name(), 0) + 1

    p = Producer(conf)
    if mode == "transactional":
        p.init_transactions(30)
    value = os.urandom(cfg["record_size"] // 2).hex().encode()[: cfg["record_size"]]
    topic = cfg["topic"]
    partitions = cfg["partitions"]
    slot = 1.0 / cfg["commits_per_s"] if mode != "idempotent" else None
    pace = cfg.get("records_per_s")
    commit_ms = []
    end_txn_ms = []
    produced = 0
    seq = 0
    # warm-up, not measured: metadata, connections, the producer id and (transactional) the
    # first AddPartitionsToTxn of every partition
    if mode == "transactional":
        p.begin_transaction()
    for i in range(partitions * 10):
        p.produce(topic, value=value, partition=i % partitions)
    p.flush(30)
    if mode == "transactional":
        p.commit_transaction(30)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    end = start + cfg["seconds"]
    next_slot = start + slot if slot else end
    if mode == "transactional":
        p.begin_transaction()
    while True:
        now = time.monotonic()
        if now >= next_slot or now >= end:
            t0 = time.monotonic()
            p.flush(30)
            t1 = time.monotonic()
            if mode == "transactional":
                p.commit_transaction(30)
            t2 = time.monotonic()
            commit_ms.append((t2 - t0) * 1000)
            end_txn_ms.append((t2 - t1) * 1000)
            if time.monotonic() >= end:
                break
            # an overrun slot: the next transaction still gets a whole slot (no empty commits)
            next_slot = (next_slot + slot if next_slot + slot > time.monotonic() else time.monotonic() + slot) if slot else end
            if mode == "transactional":
                p.begin_transaction()
            continue
        if pace is not None and produced >= (now - start) * pace:
            # offered load reached: wait for the next record's time (or the slot's end)
            p.poll(min(0.002, max(0.0, next_slot - now)))
            continue
        # a burst between clock checks
        for _ in range(64 if pace is None else 8):
            try:
                p.produce(topic, value=value, partition=seq % partitions, on_delivery=on_delivery)
                seq += 1
                produced += 1
            except BufferError:
                p.poll(0.001)
                break
        p.poll(0)
    remaining = p.flush(60)
    seconds = time.monotonic() - start
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "mode": mode,
        "commitsPerSecondTarget": cfg.get("commits_per_s"),
        "seconds": seconds,
        "produced": produced,
        "delivered": delivered[0],
        "failed": failed[0],
        "undelivered": remaining,
        "recordsPerSecond": delivered[0] / seconds,
        "mbPerSecond": delivered[0] * cfg["record_size"] / seconds / 1e6,
        "commits": len(commit_ms),
        "commitMs": commit_ms,
        "endTxnMs": end_txn_ms,
        "errors": errors,
        "clientCpuSeconds": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
    }))


if __name__ == "__main__":
    try:
        main()
    except KafkaException as e:
        print(json.dumps({"fatal": str(e)}))
        sys.exit(1)
