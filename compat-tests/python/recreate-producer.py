"""A confluent-kafka producer that keeps producing to one topic while a test deletes and
re-creates it (librdkafka's test 0107, producer side).

Usage: recreate-producer.py '{"bootstrap": "host:port", "topic": "t", "rate": 50,
                              "refresh_ms": 500, "message_timeout_ms": 60000}'

Sends value "<phase>-<n>" with key "k<n>" (n = 0, 1, ...) at about `rate` messages per
second, acks=all, no explicit partition: librdkafka's default partitioner hashes the key over
every partition it currently believes the topic has. The phase starts as "before"; a line
"phase <name>" on stdin changes it for every message produced from then on, so a message
tagged "after" was handed to produce() after the test sent that line. Prints JSON lines:
  {"t": "dr", "n": n, "phase": ..., "p": partition, "o": offset, "e": null | {code, name, message}}
  {"t": "produce_error", "n": n, "phase": ..., "e": {...}}   produce() refused the message
  {"t": "log", "fac": ..., "msg": ...}    librdkafka's MetadataRequest / partition count lines
On "stop" (or end of stdin) it stops producing, flushes and prints
  {"t": "done", "produced": n, "outstanding": k}.
"""
import json
import logging
import sys
import threading
import time

from confluent_kafka import KafkaException, Producer

OUT_LOCK = threading.Lock()


def emit(obj):
    with OUT_LOCK:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def error_json(err):
    return {"code": err.code(), "name": err.name(), "message": err.str()}


class InterestingLines(logging.Handler):
    """Keeps the lines that tell which Metadata version librdkafka sends and what it learnt."""

    def emit(self, record):
        msg = record.getMessage()
        if "Sent MetadataRequest" in msg or "partition count changed" in msg or "no longer reported in metadata" in msg:
            emit({"t": "log", "fac": record.name, "msg": msg})


def main():
    cfg = json.loads(sys.argv[1])
    rate = cfg.get("rate", 50)
    logger = logging.getLogger("librdkafka")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(InterestingLines())
    logger.propagate = False
    conf = {
        "bootstrap.servers": cfg["bootstrap"],
        "acks": "all",
        "linger.ms": 5,
        "topic.metadata.refresh.interval.ms": cfg.get("refresh_ms", 500),
        "message.timeout.ms": cfg.get("message_timeout_ms", 60000),
        "debug": "protocol,topic,metadata",
        "logger": logger,
        "error_cb": lambda err: emit({"t": "client_error", "e": error_json(err)}),
    }
    producer = Producer(conf)
    phase = ["before"]
    stop = threading.Event()

    def watch_stdin():
        for line in sys.stdin:
            line = line.strip()
            if line == "stop":
                break
            if line.startswith("phase "):
                phase[0] = line[len("phase "):]
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    def report(err, msg):
        tag, n = msg.value().decode().rsplit("-", 1)
        emit({"t": "dr", "n": int(n), "phase": tag, "p": msg.partition(), "o": msg.offset(), "e": None if err is None else error_json(err)})

    produced = 0
    started = time.monotonic()
    while not stop.is_set():
        due = int((time.monotonic() - started) * rate) + 1
        while produced < due and not stop.is_set():
            tag = phase[0]
            n = produced
            try:
                producer.produce(cfg["topic"], key=f"k{n}".encode(), value=f"{tag}-{n}".encode(), on_delivery=report)
            except BufferError:
                producer.poll(0.05)
                continue
            except KafkaException as e:
                emit({"t": "produce_error", "n": n, "phase": tag, "e": error_json(e.args[0])})
            produced += 1
        producer.poll(0.005)

    outstanding = producer.flush(cfg.get("flush_timeout_s", 30))
    emit({"t": "done", "produced": produced, "outstanding": outstanding})


if __name__ == "__main__":
    main()
