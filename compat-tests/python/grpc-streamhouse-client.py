#!/usr/bin/env python3
"""The "any language" proof for StreamHouse's native API: a plain grpcio program using stubs
that protoc generated from src/grpc/streamhouse.proto (nothing StreamHouse-specific installed).

Usage: grpc-streamhouse-client.py <stubs dir> <host:port>
Prints one JSON object with what every call returned; bytes are hex, absent fields null.
"""
import json
import sys

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402
import streamhouse_pb2 as pb  # noqa: E402
import streamhouse_pb2_grpc as rpc  # noqa: E402

TOPIC = "py-events"
KEYS = ["alice", "bob", "carol", "dave", "erin", "frank"]


def hexed(msg, field):
    return msg.__getattribute__(field).hex() if msg.HasField(field) else None


def record_json(r):
    return {
        "offset": r.offset,
        "partition": r.partition,
        "timestamp_ms": r.timestamp_ms,
        "key": hexed(r, "key"),
        "value": hexed(r, "value"),
        "headers": [[h.key, hexed(h, "value")] for h in r.headers],
    }


def status_of(call):
    try:
        call()
    except grpc.RpcError as e:
        return [e.code().name, e.details()]
    return ["OK", ""]


def main():
    channel = grpc.insecure_channel(sys.argv[2])
    admin = rpc.AdminServiceStub(channel)
    producer = rpc.ProducerServiceStub(channel)
    consumer = rpc.ConsumerServiceStub(channel)
    out = {}

    out["health"] = admin.Health(pb.HealthRequest()).status
    created = admin.CreateTopic(pb.CreateTopicRequest(name=TOPIC, partitions=3, configs={"retention.ms": "86400000"}))
    out["created"] = {"name": created.name, "partitions": created.partition_count, "configs": dict(created.configs)}

    keyed = []
    for i, key in enumerate(KEYS):
        res = producer.Produce(pb.ProduceRequest(
            topic=TOPIC,
            record=pb.Record(key=key.encode(), value=("order %d" % i).encode(), headers=[pb.Header(key="lang", value=b"python")], timestamp_ms=1700000000000 + i),
        ))
        keyed.append({"key": key, "partition": res.partition, "offset": res.offset})
    out["keyed"] = keyed

    batch = producer.ProduceBatch(pb.ProduceBatchRequest(
        topic=TOPIC,
        partition=0,
        records=[
            pb.Record(key=b"bin", value=bytes(range(256)), timestamp_ms=1700000001000),
            pb.Record(key=b"", value=b"empty key", timestamp_ms=1700000001001),
            pb.Record(key=b"tombstone", headers=[pb.Header(key="null-header")], timestamp_ms=1700000001002),
            pb.Record(value=b"no key", timestamp_ms=1700000001003),
        ],
    ))
    out["batch"] = {"partition": batch.partition, "base_offset": batch.base_offset, "record_count": batch.record_count}

    consumed = consumer.Consume(pb.ConsumeRequest(topic=TOPIC, partition=0, offset=0, max_records=100))
    out["consumed"] = {"records": [record_json(r) for r in consumed.records], "high_watermark": consumed.high_watermark, "next_offset": consumed.next_offset}

    wanted = consumed.high_watermark
    streamed = []
    stream = consumer.Subscribe(pb.SubscribeRequest(topic=TOPIC, partition=0, offset=0, max_records=2))
    for message in stream:
        streamed.extend(r.offset for r in message.records)
        if len(streamed) >= wanted:
            stream.cancel()
            break
    out["subscribed_offsets"] = streamed

    consumer.CommitOffset(pb.CommitOffsetRequest(group="py-group", topic=TOPIC, partition=0, offset=2, metadata="from python"))
    got = consumer.GetOffset(pb.GetOffsetRequest(topic=TOPIC, partition=0, group="py-group"))
    out["committed"] = {"offset": got.offset, "found": got.found, "high_watermark": got.high_watermark}
    group = admin.DescribeGroup(pb.DescribeGroupRequest(group_id="py-group"))
    out["group"] = {"total_lag": group.total_lag, "offsets": [[o.topic, o.partition, o.committed_offset, o.lag, o.metadata] for o in group.offsets]}

    out["errors"] = {
        "unknown_topic": status_of(lambda: consumer.Consume(pb.ConsumeRequest(topic="nope", partition=0))),
        "bad_offset": status_of(lambda: consumer.Consume(pb.ConsumeRequest(topic=TOPIC, partition=0, offset=999))),
        "exists": status_of(lambda: admin.CreateTopic(pb.CreateTopicRequest(name=TOPIC, partitions=1))),
        "bad_partition": status_of(lambda: producer.Produce(pb.ProduceRequest(topic=TOPIC, partition=-1, record=pb.Record(value=b"x")))),
    }
    channel.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
