#!/usr/bin/env bash
# Produce hot path of two builds, back to back and alternating, so that both see the same
# machine: for a change on the produce path, give these numbers before and after.
#   bash bench/compare-builds.sh <checkout-before> [checkout-after (default: this one)]
# Each checkout needs dist/ built (npm run build). ROUNDS (default 2) and DURATION (s, default 8).
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=$(cd "$1" && pwd)
AFTER=$(cd "${2:-.}" && pwd)
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-8}
WORK=$(mktemp -d /tmp/streamhouse-compare-XXXXXX)
RESULTS=$WORK/results.jsonl
BROKER_PID=""
trap '[[ -n "$BROKER_PID" ]] && kill "$BROKER_PID" 2>/dev/null; true' EXIT
tsx() { npx --no-install tsx "$@" 2> >(grep -v 'npm warn' >&2); }
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

run_build() {
  local name=$1 dir=$2 data=$WORK/$1-data
  local kafka http grpc
  kafka=$(free_port); http=$(free_port); grpc=$(free_port)
  rm -rf "$data"; mkdir -p "$data"
  node "$dir/dist/cli/streamhouse.js" start --data-dir "$data" --kafka-listener "127.0.0.1:$kafka" \
    --http-port "$http" --grpc-port "$grpc" --log-level warn >"$WORK/$name.log" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$http/ready" >/dev/null && break; sleep 0.2; done
  local b=(--bootstrap "127.0.0.1:$kafka" --broker-pid "$BROKER_PID" --http-port "$http")
  tsx bench/produce-load.ts "${b[@]}" --record-size 100 --records-per-batch 4000 --partitions 8 --connections 4 --inflight 8 --duration-s "$DURATION" --label "$name produce 100B" --json-out "$RESULTS" || true
  tsx bench/produce-load.ts "${b[@]}" --record-size 1024 --records-per-batch 500 --partitions 8 --connections 4 --inflight 8 --duration-s "$DURATION" --label "$name produce 1KiB" --json-out "$RESULTS" || true
  tsx bench/produce-load.ts "${b[@]}" --record-size 1024 --records-per-batch 16 --partitions 4 --connections 2 --inflight 16 --acks=-1 --rate-mb-s 10 --duration-s "$DURATION" --label "$name latency 10MB/s" --json-out "$RESULTS" || true
  kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true
  BROKER_PID=""
}

echo "before: $BEFORE ($(git -C "$BEFORE" rev-parse --short HEAD)); after: $AFTER ($(git -C "$AFTER" rev-parse --short HEAD)); load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  run_build "r$round-before" "$BEFORE"
  run_build "r$round-after" "$AFTER"
done
tsx bench/summary.ts "$RESULTS"
echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); results in $RESULTS)"
