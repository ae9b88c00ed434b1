"""Runs kafka-python KafkaAdminClient operations and prints their results as JSON.

Usage: kafka-python-admin.py '{"bootstrap": "host:port", "ops": [{"op": "...", ...}, ...]}'
Prints one JSON document: {"results": [<one entry per op, in order>]}. Errors that Kafka
reports per topic or resource are returned as {"error": {"code", "name", "message"}} so
the calling test can assert on them; anything else is a crash with a traceback.
"""
import json
import sys

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic
from kafka.errors import KafkaError, for_code


def error_json(err):
    return {"code": err.errno, "name": type(err).__name__, "message": str(err)}


def code_json(code, message):
    if code == 0:
        return None
    cls = for_code(code)
    return {"code": code, "name": cls.__name__, "message": message}


def one_by_one(names, call):
    """kafka-python raises on a batch's first failed topic, so each topic goes alone."""
    out = {}
    for name in names:
        try:
            call(name)
            out[name] = {"error": None}
        except KafkaError as e:
            out[name] = {"error": error_json(e)}
    return out


def create_topics(admin, op):
    by_name = {t["name"]: t for t in op["topics"]}

    def create(name):
        t = by_name[name]
        admin.create_topics([NewTopic(name, t["partitions"], 1, topic_configs=t.get("configs", {}))], validate_only=op.get("validate_only", False))

    return one_by_one(list(by_name), create)


def list_topics(admin, op):
    return sorted(admin.list_topics())


def describe_topics(admin, op):
    return [
        {
            "topic": t["topic"],
            "error": code_json(t["error_code"], None),
            "is_internal": t["is_internal"],
            "partitions": sorted(({"partition": p["partition"], "leader": p["leader"], "replicas": p["replicas"], "isr": p["isr"]} for p in t["partitions"]), key=lambda p: p["partition"]),
        }
        for t in admin.describe_topics(op["topics"])
    ]


def describe_cluster(admin, op):
    c = admin.describe_cluster()
    return {"cluster_id": c["cluster_id"], "controller_id": c["controller_id"], "brokers": sorted(c["brokers"], key=lambda b: b["node_id"])}


RESOURCE_TYPES = {"topic": ConfigResourceType.TOPIC, "broker": ConfigResourceType.BROKER}


def describe_configs(admin, op):
    resources = [ConfigResource(RESOURCE_TYPES[r["type"]], r["name"]) for r in op["resources"]]
    # one response per broker asked (broker resources go to that broker), in no set order
    found = {}
    for response in admin.describe_configs(resources):
        for error_code, error_message, resource_type, resource_name, entries in response.resources:
            kind = "topic" if resource_type == ConfigResourceType.TOPIC.value else "broker"
            entry = {"type": kind, "name": resource_name}
            if error_code != 0:
                entry["error"] = code_json(error_code, error_message)
            else:
                # v1+ entries: name, value, read_only, source, is_sensitive, synonyms
                entry["configs"] = {e[0]: {"value": e[1], "read_only": e[2], "source": e[3], "is_sensitive": e[4]} for e in entries}
            found[(kind, resource_name)] = entry
    return [found[(r["type"], r["name"])] for r in op["resources"]]


def create_partitions(admin, op):
    return one_by_one(list(op["topics"]), lambda name: admin.create_partitions({name: NewPartitions(op["topics"][name])}, validate_only=op.get("validate_only", False)))


def delete_topics(admin, op):
    return one_by_one(op["topics"], lambda name: admin.delete_topics([name]))


OPS = {
    "create_topics": create_topics,
    "list_topics": list_topics,
    "describe_topics": describe_topics,
    "describe_cluster": describe_cluster,
    "describe_configs": describe_configs,
    "create_partitions": create_partitions,
    "delete_topics": delete_topics,
}


def main():
    args = json.loads(sys.argv[1])
    admin = KafkaAdminClient(bootstrap_servers=args["bootstrap"], client_id="streamhouse-compat-kafka-python", request_timeout_ms=15000)
    try:
        results = [OPS[op["op"]](admin, op) for op in args["ops"]]
    finally:
        admin.close()
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
