"""The two long-running clients of transaction-crash.test.ts (confluent-kafka / librdkafka).

Usage: transaction-crash.py pipeline|reader '<json config>'
Both print one JSON object per line on stdout and stop when a line "stop" arrives on stdin.

pipeline  {bootstrap, input, output, group, transactional_id, min_batch, max_batch,
           abort_ratio, seed, pace_ms}
  Consume-transform-produce: a consumer in `group` (no auto commit, read_committed) and a
  transactional producer. Each transaction T (numbered from 1 over the whole run, across
  client generations) copies the records one consume() returned to the same partition of the
  output topic, key "<input partition>:<input offset>", value "<T>", and sends the consumed
  offsets with send_offsets_to_transaction. A fraction abort_ratio is aborted on purpose
  after flushing (its records are in the log), then the consumer seeks back. Any error the
  transaction API does not classify as retriable or abortable (fatal, fenced, timed out too
  often, the broker gone for good) throws both clients away and builds new ones with the
  same transactional.id: init_transactions fences the old producer and finishes whatever
  transaction it left, and the new consumer starts from the group's committed offsets.
  The producer is built (and initialised) before the consumer, so the committed offsets the
  consumer fetches are those after the previous transaction was finished.
  Events:
    {"ev": "generation", "n": k}                    new clients, init_transactions returned
    {"ev": "begin", "t": T, "src": [[p, o], ...]}   begin_transaction returned; T's records
    {"ev": "commit", "t": T}                        about to call commit_transaction (first time)
    {"ev": "committed", "t": T, "next": {p: o}}     commit_transaction returned success
    {"ev": "aborted", "t": T, "how": "explicit" | "after-failed-commit" | "before-commit"}
                                                    abort_transaction returned success
    {"ev": "dropped", "t": T, "error": ...}         clients thrown away with T unfinished
    {"ev": "error", "where": ..., "error": ...}     any error seen (also error_cb)
  The test derives each transaction's fate from these; see transaction-crash.test.ts.

fence     {bootstrap, transactional_id}
  A zombie's successor: a producer with the pipeline's transactional.id calls
  init_transactions() (InitProducerId bumps the epoch: the pipeline's producer is fenced, its
  open transaction aborted), prints {"ev": "fenced"} and exits.

reader    {bootstrap, topic, partitions}
  A read_committed consumer (manual assign from the beginning, auto.offset.reset=error so a
  position reset cannot hide as a re-read) that prints every record as
  {"r": [partition, offset, key, value]} and errors as {"ev": "error", ...}.
"""
import json
import random
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

STOP = threading.Event()
OUT_LOCK = threading.Lock()


def emit(obj):
    line = json.dumps(obj, separators=(",", ":"))
    with OUT_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def watch_stdin():
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    STOP.set()


def err_json(e):
    if isinstance(e, KafkaException) and e.args and isinstance(e.args[0], KafkaError):
        k = e.args[0]
        return {"name": k.name(), "code": k.code(), "message": k.str(), "fatal": k.fatal(), "retriable": k.retriable(), "abortable": k.txn_requires_abort()}
    if isinstance(e, KafkaError):
        return {"name": e.name(), "code": e.code(), "message": e.str(), "fatal": e.fatal()}
    return {"name": type(e).__name__, "message": str(e)}


def kafka_error(e):
    return e.args[0] if isinstance(e, KafkaException) and e.args and isinstance(e.args[0], KafkaError) else None


class Recreate(Exception):
    """Throw both clients away and start a new generation."""


class Pipeline:
    def __init__(self, cfg):
        self.cfg = cfg
        self.rng = random.Random(cfg["seed"])
        self.txn = 0
        self.generation = 0
        self.open_txn = None  # T while a transaction is begun and not finished

    def on_error(self, where):
        def cb(err):
            emit({"ev": "error", "where": where, "error": err_json(err)})
        return cb

    def run(self):
        while not STOP.is_set():
            producer = consumer = None
            try:
                producer = Producer({
                    "bootstrap.servers": self.cfg["bootstrap"],
                    "transactional.id": self.cfg["transactional_id"],
                    "enable.idempotence": True,
                    "linger.ms": 2,
                    "transaction.timeout.ms": 60000,
                    "message.timeout.ms": 60000,
                    "socket.connection.setup.timeout.ms": 3000,
                    "reconnect.backoff.max.ms": 500,
                    "error_cb": self.on_error("producer"),
                })
                self.retry("init_transactions", lambda: producer.init_transactions(10))
                self.generation += 1
                emit({"ev": "generation", "n": self.generation})
                consumer = Consumer({
                    "bootstrap.servers": self.cfg["bootstrap"],
                    "group.id": self.cfg["group"],
                    "enable.auto.commit": False,
                    "isolation.level": "read_committed",
                    "auto.offset.reset": "earliest",
                    "session.timeout.ms": 10000,
                    "heartbeat.interval.ms": 1000,
                    "fetch.wait.max.ms": 100,
                    "reconnect.backoff.max.ms": 500,
                    "error_cb": self.on_error("consumer"),
                })
                consumer.subscribe([self.cfg["input"]])
                self.loop(producer, consumer)
            except Exception as e:  # noqa: BLE001 - every failure means: new clients
                emit({"ev": "error", "where": "generation", "error": err_json(e)})
                if self.open_txn is not None:
                    emit({"ev": "dropped", "t": self.open_txn, "error": err_json(e)})
                    self.open_txn = None
                time.sleep(0.3)
            finally:
                if consumer is not None:
                    try:
                        consumer.close()
                    except Exception as e:  # noqa: BLE001
                        emit({"ev": "error", "where": "consumer.close", "error": err_json(e)})
                # the producer goes with its last reference (no flush: nothing of it may linger)
                producer = None

    def retry(self, what, fn, attempts=8):
        """Calls fn until it succeeds; retriable errors are retried, others raised."""
        for attempt in range(attempts):
            try:
                return fn()
            except KafkaException as e:
                k = kafka_error(e)
                emit({"ev": "error", "where": what, "attempt": attempt, "error": err_json(e)})
                if k is None or not k.retriable() or k.fatal() or STOP.is_set():
                    raise
                time.sleep(0.2)
        raise Recreate(f"{what}: still retriable after {attempts} attempts")

    def loop(self, producer, consumer):
        out_topic = self.cfg["output"]
        while not STOP.is_set():
            n = self.rng.randint(self.cfg["min_batch"], self.cfg["max_batch"])
            msgs = consumer.consume(num_messages=n, timeout=0.3)
            records = []
            for m in msgs:
                if m.error():
                    k = m.error()
                    emit({"ev": "error", "where": "consume", "error": err_json(k)})
                    if k.fatal():
                        raise KafkaException(k)
                    continue
                records.append(m)
            if not records:
                continue
            self.txn += 1
            t = self.txn
            first = {}
            nxt = {}
            for m in records:
                first.setdefault(m.partition(), m.offset())
                nxt[m.partition()] = m.offset() + 1
            producer.begin_transaction()
            self.open_txn = t
            emit({"ev": "begin", "t": t, "src": [[m.partition(), m.offset()] for m in records]})
            try:
                for m in records:
                    while True:
                        try:
                            producer.produce(out_topic, key=f"{m.partition()}:{m.offset()}".encode(), value=str(t).encode(), partition=m.partition())
                            break
                        except BufferError:
                            producer.poll(0.05)
                    producer.poll(0)
                if self.rng.random() < self.cfg["abort_ratio"]:
                    # really in the log before the abort
                    producer.flush(10)
                    self.abort(producer, consumer, t, first, "explicit")
                    continue
                offsets = [TopicPartition(self.cfg["input"], p, o) for p, o in sorted(nxt.items())]
                self.retry("send_offsets_to_transaction", lambda: producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 10))
            except KafkaException as e:
                k = kafka_error(e)
                if k is not None and k.txn_requires_abort():
                    self.abort(producer, consumer, t, first, "before-commit")
                    continue
                raise
            emit({"ev": "commit", "t": t})
            try:
                self.retry("commit_transaction", lambda: producer.commit_transaction(10))
            except KafkaException as e:
                k = kafka_error(e)
                if k is not None and k.txn_requires_abort():
                    self.abort(producer, consumer, t, first, "after-failed-commit")
                    continue
                raise
            self.open_txn = None
            emit({"ev": "committed", "t": t, "next": nxt})
            if self.cfg["pace_ms"] > 0:
                time.sleep(self.cfg["pace_ms"] / 1000)

    def abort(self, producer, consumer, t, first, how):
        # any failure here leaves T to the next generation's init_transactions (dropped)
        self.retry("abort_transaction", lambda: producer.abort_transaction(10))
        self.open_txn = None
        emit({"ev": "aborted", "t": t, "how": how})
        for p, o in sorted(first.items()):
            try:
                consumer.seek(TopicPartition(self.cfg["input"], p, o))
            except KafkaException as e:
                # not assigned any more (rebalanced): the next assignment starts at the committed offsets anyway
                emit({"ev": "error", "where": "seek", "error": err_json(e)})
                raise Recreate("seek after abort failed")


def reader(cfg):
    consumer = Consumer({
        "bootstrap.servers": cfg["bootstrap"],
        "group.id": "transaction-crash-reader",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "isolation.level": "read_committed",
        "auto.offset.reset": "error",
        "fetch.wait.max.ms": 100,
        "reconnect.backoff.max.ms": 500,
        "error_cb": lambda err: emit({"ev": "error", "where": "reader", "error": err_json(err)}),
    })
    consumer.assign([TopicPartition(cfg["topic"], p, 0) for p in range(cfg["partitions"])])
    while not STOP.is_set():
        for m in consumer.consume(num_messages=500, timeout=0.2):
            if m.error():
                emit({"ev": "error", "where": "reader.consume", "error": err_json(m.error())})
                continue
            k = m.key()
            v = m.value()
            emit({"r": [m.partition(), m.offset(), None if k is None else k.decode(), None if v is None else v.decode()]})
    consumer.close()


def main():
    mode = sys.argv[1]
    cfg = json.loads(sys.argv[2])
    threading.Thread(target=watch_stdin, daemon=True).start()
    if mode == "pipeline":
        Pipeline(cfg).run()
    elif mode == "fence":
        producer = Producer({"bootstrap.servers": cfg["bootstrap"], "transactional.id": cfg["transactional_id"], "enable.idempotence": True})
        producer.init_transactions(30)
        emit({"ev": "fenced"})
        return
    else:
        reader(cfg)
    emit({"ev": "done"})


if __name__ == "__main__":
    main()
