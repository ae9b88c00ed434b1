#!/usr/bin/env bash
# The production demo: a StreamHouse broker (embedded defaults: SQLite + a local directory) and
# three services. ./run-demo.sh [setup|build|start|orders [N]|analytics|stop]; no argument runs
# setup, build, start, 10000 orders and prints the analytics (everything keeps running).
set -euo pipefail
DEMO_DIR="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$DEMO_DIR/../.." && pwd)"
STATE="${DEMO_STATE_DIR:-$DEMO_DIR/.demo}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
BROKER_HTTP_PORT="${BROKER_HTTP_PORT:-8080}"
GRPC_PORT="${GRPC_PORT:-50051}"
ORDER_PORT="${ORDER_PORT:-3001}"
ANALYTICS_PORT="${ANALYTICS_PORT:-3002}"
INVENTORY_PORT="${INVENTORY_PORT:-3003}"
export STREAMHOUSE_ADDR="http://127.0.0.1:${GRPC_PORT}"
export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT}"
export ORDER_SERVICE_URL="http://127.0.0.1:${ORDER_PORT}"
export ANALYTICS_URL="http://127.0.0.1:${ANALYTICS_PORT}"
export INVENTORY_URL="http://127.0.0.1:${INVENTORY_PORT}"
cd "$REPO"

tsx() { node --import tsx "$@"; }

wait_http() { # url name pidfile
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    if ! kill -0 "$(cat "$3")" 2>/dev/null; then echo "$2 exited; its log:" >&2; tail -n 30 "$STATE/$2.log" >&2; return 1; fi
    sleep 0.2
  done
  echo "$2 did not answer $1 within 30 s; its log:" >&2
  tail -n 30 "$STATE/$2.log" >&2
  return 1
}

running() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

launch() { # name url command...
  local name=$1 url=$2
  shift 2
  if running "$name"; then echo "$name is already running (pid $(cat "$STATE/$name.pid"))"; return 0; fi
  "$@" >"$STATE/$name.log" 2>&1 &
  echo $! >"$STATE/$name.pid"
  wait_http "$url" "$name" "$STATE/$name.pid"
  echo "$name started (pid $(cat "$STATE/$name.pid"), log $STATE/$name.log)"
}

setup() {
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("Node.js >= 20.19 needed, this is "+process.version); process.exit(1) }'
  command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }
  [ -x node_modules/.bin/tsx ] || npm ci
  mkdir -p "$STATE"
  echo "setup done (state in $STATE)"
}

build() {
  npm run build
}

start() {
  mkdir -p "$STATE"
  [ -f dist/cli/streamhouse.js ] || build
  # `npx streamhouse start` as in the README (its bin, run directly so the pid file names the broker)
  launch broker "http://127.0.0.1:${BROKER_HTTP_PORT}/ready" \
    node_modules/.bin/streamhouse start --data-dir "$STATE/data" --kafka-listener "0.0.0.0:${KAFKA_PORT}" --http-port "$BROKER_HTTP_PORT" --grpc-port "$GRPC_PORT" --log-level warn
  PORT=$ORDER_PORT launch order-service "$ORDER_SERVICE_URL/health" node --import tsx "$DEMO_DIR/src/order-service/main.ts"
  PORT=$ANALYTICS_PORT INSTANCE_ID=analytics-1 launch analytics-service "$ANALYTICS_URL/health" node --import tsx "$DEMO_DIR/src/analytics-service/main.ts"
  PORT=$INVENTORY_PORT launch inventory-service "$INVENTORY_URL/health" node --import tsx "$DEMO_DIR/src/inventory-service/main.ts"
  echo "dashboard: $ANALYTICS_URL/   inventory: $INVENTORY_URL/inventory   broker console: http://127.0.0.1:${BROKER_HTTP_PORT}/"
}

orders() {
  tsx "$DEMO_DIR/src/tools/send-orders.ts" "${1:-1000}"
}

analytics() {
  tsx "$DEMO_DIR/src/tools/show-stats.ts"
}

stop() {
  for name in inventory-service analytics-service order-service broker; do
    if running "$name"; then
      local pid
      pid=$(cat "$STATE/$name.pid")
      kill -TERM "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
      echo "$name stopped"
    fi
    rm -f "$STATE/$name.pid"
  done
}

case "${1:-all}" in
  setup) setup ;;
  build) build ;;
  start) start ;;
  orders) orders "${2:-1000}" ;;
  analytics) analytics ;;
  stop) stop ;;
  all)
    setup
    build
    start
    orders "${2:-10000}"
    sleep 2
    analytics
    echo "still running: open $ANALYTICS_URL/ for the live dashboard, ./run-demo.sh orders 5000 for more, ./run-demo.sh stop to stop"
    ;;
  *) echo "usage: $0 [setup|build|start|orders [N]|analytics|stop]" >&2; exit 2 ;;
esac
