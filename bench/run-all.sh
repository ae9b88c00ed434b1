#!/usr/bin/env bash
# Runs every benchmark against fresh brokers in temp directories and prints a summary table.
#   bash bench/run-all.sh              (QUICK=1 for shorter runs, BUILD=1 to npm run build first)
# Needs dist/ (npm run build) and /usr/bin/python3 with confluent-kafka for the real-client runs.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
if [[ "${QUICK:-0}" == 1 ]]; then DURATION=4; fi
if [[ "${BUILD:-0}" == 1 || ! -f dist/cli/streamhouse.js ]]; then npm run build; fi

WORK=$(mktemp -d /tmp/streamhouse-run-all-XXXXXX)
RESULTS=${RESULTS:-$WORK/results.jsonl}
: >"$RESULTS"
BROKER_PID=""
SINK_PID=""
cleanup() {
  [[ -n "$SINK_PID" ]] && kill "$SINK_PID" 2>/dev/null || true
  if [[ -n "$BROKER_PID" ]]; then kill "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK/broker"
}
trap cleanup EXIT

tsx() { npx --no-install tsx "$@" 2> >(grep -v 'npm warn' >&2); }
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
section() { echo; echo "=== $* ($(date +%T), load average $(cut -d' ' -f1-3 /proc/loadavg), CPU pressure $(sed -n 's/^some avg10=\([0-9.]*\).*/\1/p' /proc/pressure/cpu 2>/dev/null)%)"; }

echo "results: $RESULTS ($(nproc) cores; other processes running now:)"
ps -eo pcpu,comm --sort=-pcpu | head -6

section "object store alone (local directory): 8 MiB durable puts, then 60 small puts/s (the disk's share of latency)"
tsx bench/object-store-baseline.ts --object-mib 8 --concurrency 1,4 --total-mib 256 --label "object store 8MiB" --json-out "$RESULTS"
tsx bench/object-store-baseline.ts --paced-per-s 60 --object-mib 0.16 --paced-s "$DURATION" --label "object store 164KiB x60/s" --json-out "$RESULTS"

section "sink broker (stores nothing): how much the load generator can push"
SINK_PORT=$(free_port)
node --import tsx bench/sink-broker.ts --port "$SINK_PORT" --default-partitions 8 >"$WORK/sink.log" 2>&1 &
SINK_PID=$!
for _ in $(seq 50); do grep -q listening "$WORK/sink.log" && break; sleep 0.2; done
SINK_NODE_PID=$SINK_PID
tsx bench/produce-load.ts --bootstrap "127.0.0.1:$SINK_PORT" --broker-pid "$SINK_NODE_PID" --record-size 100 --records-per-batch 4000 --partitions 8 --connections 4 --inflight 8 --duration-s "$DURATION" --label "sink 100B" --json-out "$RESULTS"
tsx bench/produce-load.ts --bootstrap "127.0.0.1:$SINK_PORT" --broker-pid "$SINK_NODE_PID" --record-size 1024 --records-per-batch 500 --partitions 8 --connections 4 --inflight 8 --duration-s "$DURATION" --label "sink 1KiB" --json-out "$RESULTS"
tsx bench/real-client.ts --bootstrap "127.0.0.1:$SINK_PORT" --records 1000000 --record-size 100 --consume false --label "confluent->sink" --json-out "$RESULTS"
kill "$SINK_PID" 2>/dev/null || true
SINK_PID=""

section "fresh broker (local directory + SQLite, default flush settings)"
KAFKA_PORT=$(free_port); HTTP_PORT=$(free_port); GRPC_PORT=$(free_port)
mkdir -p "$WORK/broker"
node dist/cli/streamhouse.js start --data-dir "$WORK/broker" --kafka-listener "127.0.0.1:$KAFKA_PORT" \
  --http-port "$HTTP_PORT" --grpc-port "$GRPC_PORT" --log-level warn >"$WORK/broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$HTTP_PORT/ready" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$HTTP_PORT/ready" >/dev/null || { cat "$WORK/broker.log"; exit 1; }
B=(--bootstrap "127.0.0.1:$KAFKA_PORT" --broker-pid "$BROKER_PID" --http-port "$HTTP_PORT")
tsx bench/produce-load.ts "${B[@]}" --record-size 100 --records-per-batch 4000 --partitions 8 --connections 4 --inflight 8 --duration-s "$DURATION" --label "produce 100B" --json-out "$RESULTS" || true
tsx bench/produce-load.ts "${B[@]}" --record-size 1024 --records-per-batch 500 --partitions 8 --connections 4 --inflight 8 --duration-s "$DURATION" --label "produce 1KiB" --json-out "$RESULTS" || true
tsx bench/produce-load.ts "${B[@]}" --record-size 1024 --records-per-batch 16 --partitions 4 --connections 2 --inflight 16 --acks=-1 --rate-mb-s 10 --duration-s $((DURATION * 2)) --label "latency 10MB/s" --json-out "$RESULTS" || true
tsx bench/real-client.ts --bootstrap "127.0.0.1:$KAFKA_PORT" --broker-pid "$BROKER_PID" --records 1000000 --record-size 100 --label "confluent" --json-out "$RESULTS" || true
tsx bench/real-client.ts --bootstrap "127.0.0.1:$KAFKA_PORT" --broker-pid "$BROKER_PID" --records 300000 --record-size 1024 --label "confluent" --json-out "$RESULTS" || true
kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true
BROKER_PID=""
rm -rf "$WORK/broker"

section "REST API: POST /api/v1/produce batches of 100 B values (4 HTTP clients, 8 partitions), then GET .../records all back (own broker)"
REST_BATCHES=100,1000,5000
if [[ "${QUICK:-0}" == 1 ]]; then REST_BATCHES=1000; fi
tsx bench/rest-api.ts --batch-records "$REST_BATCHES" --duration-s "$DURATION" --label rest --json-out "$RESULTS" || true
if [[ "${QUICK:-0}" != 1 ]]; then
  tsx bench/rest-api.ts --mode keyed --batch-records 1000 --duration-s "$DURATION" --label "rest keyed" --json-out "$RESULTS" || true
fi

section "fetch: recent-write cache, then restart: cold object store and chunk cache (own broker)"
tsx bench/fetch-load.ts --duration-s "$DURATION" --label fetch --json-out "$RESULTS" || true

section "memory: produce far past the recent-write cache, read back far past the chunk cache (own broker)"
tsx bench/memory.ts --produce-s "$DURATION" --label memory --json-out "$RESULTS" || true

section "security: produce and fetch over PLAINTEXT, SSL and SASL_SSL (SCRAM-SHA-512) listeners of one broker, rounds in rotated order (own broker)"
if [[ "${QUICK:-0}" == 1 ]]; then
  tsx bench/security-throughput.ts --rounds 2 --phase-s 3 --fetch-mb 100 --json-out "$RESULTS" || true
else
  tsx bench/security-throughput.ts --rounds 5 --phase-s "$((DURATION / 2))" --json-out "$RESULTS" || true
fi

section "metrics cost: produce with and without a /metrics scraper every second, alternating on one broker; series per partition (own brokers)"
if [[ "${QUICK:-0}" == 1 ]]; then
  tsx bench/metrics-cost.ts --rounds 4 --phase-s 3 --series-partitions 1,1000 --json-out "$RESULTS" || true
else
  tsx bench/metrics-cost.ts --rounds 8 --phase-s "$((DURATION / 2))" --series-partitions 1,100,1000,10000 --json-out "$RESULTS" || true
fi

section "authorization cost (#14): produce with no authorizer vs the authorizer and 10,000 ACLs, alternating between two brokers; the check timed in-process"
if [[ "${QUICK:-0}" == 1 ]]; then
  tsx bench/acl-cost.ts --rounds 4 --phase-s 3 --json-out "$RESULTS" || true
else
  tsx bench/acl-cost.ts --rounds 8 --phase-s "$((DURATION / 2))" --json-out "$RESULTS" || true
fi

section "production demo (#17): orders/s through the order service, events/s through analytics, inventory updates/s (own broker and service processes)"
if [[ "${QUICK:-0}" == 1 ]]; then
  tsx bench/production-demo.ts --orders 50000 --live-orders 20000 --concurrency 8 --json-out "$RESULTS" || true
else
  tsx bench/production-demo.ts --orders 200000 --live-orders 100000 --concurrency 8 --json-out "$RESULTS" || true
fi

section "summary"
tsx bench/summary.ts "$RESULTS"
echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); results kept in $RESULTS)"
