"""Runs confluent-kafka AdminClient operations and prints their results as JSON.

Usage: confluent-admin.py '{"bootstrap": "host:port", "ops": [{"op": "...", ...}, ...]}'
Prints one JSON document: {"results": [<one entry per op, in order>]}. Errors that Kafka
reports per topic or resource are returned as {"error": {"code", "name", "message"}} so
the calling test can assert on them; anything else is a crash with a traceback.
"""
import json
import sys

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

TIMEOUT_S = 15


def error_json(err):
    return {"code": err.code(), "name": err.name(), "message": err.str()}


def settle(futures):
    """Waits for every future; maps its key to {"error": None} or the Kafka error."""
    out = {}
    for key, fut in futures.items():
        try:
            fut.result(timeout=TIMEOUT_S)
            out[key] = {"error": None}
        except KafkaException as e:
            out[key] = {"error": error_json(e.args[0])}
    return out


def create_topics(admin, op):
    topics = [NewTopic(t["name"], num_partitions=t["partitions"], replication_factor=1, config=t.get("configs", {})) for t in op["topics"]]
    return settle(admin.create_topics(topics, operation_timeout=TIMEOUT_S, validate_only=op.get("validate_only", False)))


def list_topics(admin, op):
    md = admin.list_topics(timeout=TIMEOUT_S)
    return {
        "cluster_id": md.cluster_id,
        "controller_id": md.controller_id,
        "brokers": sorted(({"id": b.id, "host": b.host, "port": b.port} for b in md.brokers.values()), key=lambda b: b["id"]),
        "topics": {
            name: {
                "error": None if t.error is None else error_json(t.error),
                "partitions": {str(p.id): {"leader": p.leader, "replicas": list(p.replicas), "isrs": list(p.isrs)} for p in t.partitions.values()},
            }
            for name, t in md.topics.items()
        },
    }


def describe_configs(admin, op):
    resources = [ConfigResource(r["type"], r["name"]) for r in op["resources"]]
    futures = admin.describe_configs(resources, request_timeout=TIMEOUT_S)
    out = []
    for res in resources:
        entry = {"type": r_type(res), "name": res.name}
        try:
            configs = futures[res].result(timeout=TIMEOUT_S)
            entry["configs"] = {
                k: {"value": v.value, "source": int(v.source), "is_default": v.is_default, "read_only": v.is_read_only, "is_sensitive": v.is_sensitive}
                for k, v in configs.items()
            }
        except KafkaException as e:
            entry["error"] = error_json(e.args[0])
        out.append(entry)
    return out


def r_type(res):
    return res.restype.name.lower()


def create_partitions(admin, op):
    parts = [NewPartitions(name, count) for name, count in op["topics"].items()]
    return settle(admin.create_partitions(parts, operation_timeout=TIMEOUT_S, validate_only=op.get("validate_only", False)))


def delete_topics(admin, op):
    return settle(admin.delete_topics(op["topics"], operation_timeout=TIMEOUT_S))


OPS = {
    "create_topics": create_topics,
    "list_topics": list_topics,
    "describe_configs": describe_configs,
    "create_partitions": create_partitions,
    "delete_topics": delete_topics,
}


def main():
    args = json.loads(sys.argv[1])
    admin = AdminClient({"bootstrap.servers": args["bootstrap"], "client.id": "streamhouse-compat-confluent"})
    results = [OPS[op["op"]](admin, op) for op in args["ops"]]
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
