"""confluent-kafka (librdkafka) producer and assign()-consumer throughput, driven by real-client.ts.

    python3 bench/confluent-bench.py produce --bootstrap 127.0.0.1:9092 --topic t --records 1000000 --record-size 100
    python3 bench/confluent-bench.py consume --bootstrap 127.0.0.1:9092 --topic t --partitions 8 --records 1000000

Prints one JSON object on stdout.
"""
import argparse
import json
import os
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition


def produce(args):
    conf = {
        'bootstrap.servers': args.bootstrap,
        'client.id': 'bench-confluent-producer',
        'linger.ms': args.linger_ms,
        'batch.size': args.batch_size,
        'message.max.bytes': max(1000000, args.batch_size + 1024),
        'acks': args.acks,
        'compression.type': 'none',
        'enable.idempotence': False,
        # let librdkafka queue enough to keep many batches in flight
        'queue.buffering.max.kbytes': 1024 * 1024,
        'queue.buffering.max.messages': 10000000,
        'max.in.flight.requests.per.connection': 5,
        # only failed deliveries call back into Python
        'delivery.report.only.error': True,
    }
    errors = {}

    def on_delivery(err, _msg):
        if err is not None:
            errors[err.name()] = errors.get(err.name(), 0) + 1

    producer = Producer(conf)
    # learn the partitions before the clock starts
    producer.list_topics(args.topic, timeout=10)
    value = os.urandom(args.record_size)
    n = args.records
    partitions = args.partitions
    started = time.perf_counter()
    i = 0
    while i < n:
        try:
            producer.produce(args.topic, value, partition=i % partitions, on_delivery=on_delivery)
            i += 1
        except BufferError:
            producer.poll(0.005)
        if i % 10000 == 0:
            producer.poll(0)
    queued = time.perf_counter()
    remaining = producer.flush(120)
    seconds = time.perf_counter() - started
    cpu = os.times()
    print(json.dumps({
        'mode': 'produce', 'records': n, 'recordSize': args.record_size, 'seconds': seconds,
        'queueSeconds': queued - started, 'undelivered': remaining, 'errors': errors,
        'recordsPerSecond': n / seconds, 'mbPerSecond': n * args.record_size / 1e6 / seconds,
        'clientCpuSeconds': cpu.user + cpu.system,
    }))


def consume(args):
    consumer = Consumer({
        'bootstrap.servers': args.bootstrap,
        'client.id': 'bench-confluent-consumer',
        # librdkafka wants a group id even for assign(); nothing is committed
        'group.id': 'bench-confluent',
        'enable.auto.commit': False,
        'enable.auto.offset.store': False,
        'fetch.max.bytes': 64 * 1024 * 1024,
        'max.partition.fetch.bytes': 8 * 1024 * 1024,
        'fetch.wait.max.ms': 100,
        'queued.max.messages.kbytes': 512 * 1024,
        'log_level': 3,
    })
    consumer.assign([TopicPartition(args.topic, p, 0) for p in range(args.partitions)])
    want = args.records
    got = 0
    nbytes = 0
    errors = {}
    started = None
    deadline = time.perf_counter() + args.timeout_s
    while got < want and time.perf_counter() < deadline:
        msgs = consumer.consume(num_messages=10000, timeout=0.5)
        if msgs and started is None:
            started = time.perf_counter()
        for m in msgs:
            err = m.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    errors[err.name()] = errors.get(err.name(), 0) + 1
                continue
            got += 1
            nbytes += len(m.value())
    ended = time.perf_counter()
    consumer.close()
    seconds = ended - (started or ended)
    cpu = os.times()
    print(json.dumps({
        'mode': 'consume', 'records': got, 'wanted': want, 'bytes': nbytes, 'seconds': seconds, 'errors': errors,
        'recordsPerSecond': got / seconds if seconds > 0 else 0, 'mbPerSecond': nbytes / 1e6 / seconds if seconds > 0 else 0,
        'clientCpuSeconds': cpu.user + cpu.system,
    }))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['produce', 'consume'])
    p.add_argument('--bootstrap', required=True)
    p.add_argument('--topic', required=True)
    p.add_argument('--partitions', type=int, default=8)
    p.add_argument('--records', type=int, default=1000000)
    p.add_argument('--record-size', type=int, default=100)
    p.add_argument('--linger-ms', type=int, default=5)
    p.add_argument('--batch-size', type=int, default=1048576)
    p.add_argument('--acks', default='all')
    p.add_argument('--timeout-s', type=float, default=120)
    args = p.parse_args()
    produce(args) if args.mode == 'produce' else consume(args)


if __name__ == '__main__':
    sys.exit(main())
