#!/usr/bin/env bash
# The full test suite: system packages the compat tests need, a build, unit tests, then
# real clients against real broker processes, once per storage backend. Exits non-zero on
# any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v kcat >/dev/null 2>&1 || need+=(kcat)
/usr/bin/python3 -c 'import confluent_kafka' >/dev/null 2>&1 || need+=(python3-confluent-kafka)
/usr/bin/python3 -c 'import kafka' >/dev/null 2>&1 || need+=(python3-kafka)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null 2>&1 || need+=(postgresql)
# kafka-python's snappy, lz4 and zstd codecs
/usr/bin/python3 -c 'import snappy' >/dev/null 2>&1 || need+=(python3-snappy)
/usr/bin/python3 -c 'import lz4.frame' >/dev/null 2>&1 || need+=(python3-lz4)
/usr/bin/python3 -c 'import zstandard' >/dev/null 2>&1 || need+=(python3-zstandard)
# the gRPC "any language" test: grpcio and protoc for Python stubs
/usr/bin/python3 -c 'import grpc' >/dev/null 2>&1 || need+=(python3-grpcio)
/usr/bin/python3 -c 'import grpc_tools.protoc' >/dev/null 2>&1 || need+=(python3-grpc-tools)
# the cluster clock-skew test runs one agent under libfaketime
command -v faketime >/dev/null 2>&1 || need+=(faketime)
# the web console's browser tests drive Debian's Chromium through playwright-core
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

[ -d node_modules ] || npm ci
npm run build
npx tsc -p tsconfig.json --noEmit
npx vitest run --config vitest.config.ts
# The compat suite twice: on the embedded default (SQLite + a local directory), then with
# every broker on PostgreSQL + S3 (a throwaway PostgreSQL cluster and s3rver per test file,
# see compat-tests/backends/test-backend.ts). Both passes run even if the first fails.
# compat-tests/cluster, compat-tests/deploy and the live Prometheus test start their own PostgreSQL and s3rver whatever
# the backend, so they run once, in the postgres-s3 pass, instead of twice.
failed=()
for backend in embedded postgres-s3; do
  echo "== compat suite on ${backend}"
  started=$(date +%s)
  once=()
  [ "$backend" = embedded ] && once=(--exclude 'compat-tests/cluster/**' --exclude 'compat-tests/deploy/**' --exclude 'compat-tests/monitoring/prometheus-live.test.ts')
  STREAMHOUSE_TEST_BACKEND=$backend npx vitest run --config vitest.compat.config.ts "${once[@]}" || failed+=("$backend")
  echo "== compat suite on ${backend}: $(( $(date +%s) - started )) s"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "compat suite failed on: ${failed[*]}"
  exit 1
fi
