"""librdkafka commits asynchronously, many OffsetCommit requests in flight, then asks what is committed.

usage: confluent-async-commits.py <bootstrap> <group> <topic> <partitions> <commits>

For every partition, commits offsets 1..<commits> with asynchronous=True, waits for every
commit callback, then prints JSON: {"callbacks": n, "errors": [...], "committed": {partition: offset}}.
"""
import json
import sys

from confluent_kafka import Consumer, TopicPartition

bootstrap, group, topic, partitions, commits = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
done = {"callbacks": 0, "errors": []}


def on_commit(err, tps):
    done["callbacks"] += 1
    if err is not None:
        done["errors"].append(str(err))
    for tp in tps:
        if tp.error is not None:
            done["errors"].append(str(tp.error))


consumer = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "enable.auto.commit": False,
    "on_commit": on_commit,
})
owned = [TopicPartition(topic, p) for p in range(partitions)]
consumer.assign(owned)
for offset in range(1, commits + 1):
    consumer.commit(offsets=[TopicPartition(topic, p, offset) for p in range(partitions)], asynchronous=True)
while done["callbacks"] < commits:
    consumer.poll(0.1)
committed = consumer.committed(owned, timeout=10)
print(json.dumps({"callbacks": done["callbacks"], "errors": done["errors"], "committed": {str(tp.partition): tp.offset for tp in committed}}))
consumer.close()
