# syntax=docker/dockerfile:1
# StreamHouse agent image: `docker build -t streamhouse .`, then
# `docker run -p 9092:9092 -p 8080:8080 streamhouse` (embedded SQLite + local directory under
# /var/lib/streamhouse) or see docker-compose.yml for a cluster on PostgreSQL and MinIO.
# compat-tests/deploy checks this file: its COPY sources against .dockerignore, the runtime
# stage's layout by starting an agent from it, and its ENV/ENTRYPOINT/HEALTHCHECK in the
# compose topology run without Docker.

ARG NODE_IMAGE=node:20-bookworm-slim

# 1. build: every dependency (tsc, esbuild, preact, uplot), then dist/ with the web console.
#    --ignore-scripts: no native module is needed to build, and the prepare script (build and
#    link bins) wants the sources that are copied below.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-console.mjs scripts/
COPY src src
COPY console console
RUN npm run build

# 2. deps: production dependencies only, with their install scripts, on the runtime's base so
#    native modules (better-sqlite3, zstd-napi; lz4-napi, snappy and @node-rs/crc32 through their
#    per-platform packages) match its architecture and libc. The toolchain is for modules that
#    have no prebuilt binary for this architecture; it stays in this stage.
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# prepare builds the project, which needs the devDependencies: not in this stage
RUN npm pkg delete scripts.prepare \
 && npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# 3. runtime: node, the production node_modules and dist/. No compiler, no npm cache, no sources.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    STREAMHOUSE_DATA_DIR=/var/lib/streamhouse
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules node_modules
COPY --from=build /src/dist dist
# tsc does not copy the gRPC definition; dist/grpc/proto-definition.js looks next to itself first
COPY src/grpc/streamhouse.proto dist/grpc/
COPY deploy/docker/healthcheck.mjs deploy/docker/
RUN chmod 755 dist/cli/streamhouse.js dist/cli/streamctl.js \
 && ln -s /app/dist/cli/streamhouse.js /usr/local/bin/streamhouse \
 && ln -s /app/dist/cli/streamctl.js /usr/local/bin/streamctl \
 && mkdir -p /var/lib/streamhouse \
 && chown node:node /var/lib/streamhouse
USER node
VOLUME /var/lib/streamhouse
# Kafka, HTTP (/health, /ready, /metrics, REST, console), gRPC
EXPOSE 9092 8080 50051
# GET /ready on the HTTP port that STREAMHOUSE_HTTP_LISTENER / STREAMHOUSE_HTTP_PORT name (8080)
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/deploy/docker/healthcheck.mjs"]
ENTRYPOINT ["streamhouse", "start"]
