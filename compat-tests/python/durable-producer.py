"""An idempotent confluent-kafka producer that keeps sending until told to stop.

Usage: durable-producer.py '{"bootstrap": "host:port", "topic": "t", "partitions": 3,
                              "rate": 1500, "message_timeout_ms": 180000}'

Sends values "m-0", "m-1", ... round-robin over the partitions (explicit partition per
message) at about `rate` messages per second, acks=all, enable.idempotence=true,
linger.ms=5. Every delivery report is printed as one JSON line and flushed at once:
  {"p": partition, "o": offset, "v": "m-<n>", "e": null | {"code", "name", "message"}}
When a line "stop" arrives on stdin (or stdin closes) it stops producing, waits for every
outstanding delivery report and prints {"done": true, "produced": n, "outstanding": k}.
Client errors (error_cb) go to stderr as JSON lines; set DURABLE_PRODUCER_DEBUG to a
librdkafka debug context list (e.g. "eos,protocol") to log the client's internals there.
"""
import json
import os
import sys
import threading
import time

from confluent_kafka import Producer


def error_json(err):
    return {"code": err.code(), "name": err.name(), "message": err.str()}


def main():
    cfg = json.loads(sys.argv[1])
    partitions = cfg["partitions"]
    rate = cfg.get("rate", 1500)
    conf = {
        "bootstrap.servers": cfg["bootstrap"],
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": 5,
        "message.timeout.ms": cfg.get("message_timeout_ms", 180000),
        # come back quickly after the broker restarts
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 500,
        "error_cb": lambda err: log_stderr({"client_error": error_json(err)}),
    }
    debug = os.environ.get("DURABLE_PRODUCER_DEBUG")
    if debug:
        conf["debug"] = debug
    producer = Producer(conf)
    stop = threading.Event()

    def watch_stdin():
        for line in sys.stdin:
            if line.strip() == "stop":
                break
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    def report(err, msg):
        line = {"p": msg.partition(), "o": msg.offset(), "v": msg.value().decode(), "e": None if err is None else error_json(err)}
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()

    produced = 0
    started = time.monotonic()
    while not stop.is_set():
        # stay on the rate line; the local queue absorbs the time the broker is down
        due = int((time.monotonic() - started) * rate) + 1
        while produced < due and not stop.is_set():
            value = f"m-{produced}"
            try:
                producer.produce(cfg["topic"], value=value.encode(), partition=produced % partitions, on_delivery=report)
            except BufferError:
                producer.poll(0.05)
                continue
            produced += 1
        producer.poll(0.005)

    outstanding = producer.flush(cfg.get("flush_timeout_s", 120))
    sys.stdout.write(json.dumps({"done": True, "produced": produced, "outstanding": outstanding}) + "\n")
    sys.stdout.flush()


def log_stderr(obj):
    sys.stderr.write(json.dumps(obj) + "\n")
    sys.stderr.flush()


if __name__ == "__main__":
    main()
