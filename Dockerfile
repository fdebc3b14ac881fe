# syntax=docker/dockerfile:1
# One image for every process of the broadcaster; the command picks the service:
#   docker run IMAGE services/dispatcher/src/main.ts
# TypeScript runs directly through tsx (no build step), as in development.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- deps: production dependencies plus tsx, resolved from the lock file -------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Manifests only, so this layer is rebuilt when dependencies change, not when code does.
# Every workspace named in package.json must be listed here (deploy validation checks it).
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY services/ingest/package.json services/ingest/
COPY services/dispatcher/package.json services/dispatcher/
COPY services/webhook/package.json services/webhook/
COPY services/analytics/package.json services/analytics/
COPY tools/cloud-api-sim/package.json tools/cloud-api-sim/
COPY tools/cli/package.json tools/cli/
COPY tools/stack/package.json tools/stack/
# tsx is a devDependency of the repo; inside this build stage only it is promoted to a dependency
# at the version the lock pins, so `--omit=dev` keeps it. That edit is why this is `npm install`
# and not `npm ci` (which refuses a manifest that differs from the lock); every resolved version
# still comes from package-lock.json.
# The embedded ClickHouse library (@chdb, ~540 MB) is dropped: containers talk to a ClickHouse
# server through CLICKHOUSE_URL, and shared/src/clickhouse.ts loads chdb lazily, only without one.
RUN --mount=type=cache,target=/root/.npm \
    TSX_VERSION="$(node -p "require('./package-lock.json').packages['node_modules/tsx'].version")" \
 && npm pkg delete devDependencies.tsx \
 && npm pkg set "dependencies.tsx=${TSX_VERSION}" \
 && npm install --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@chdb \
 && node -e "import('tsx/esm/api').then(() => console.log('tsx loads'))"

# --- runtime --------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/ ./
COPY tsconfig.json ./
COPY shared/ shared/
COPY services/ services/
COPY tools/ tools/
COPY scripts/ scripts/
COPY config/ config/
# Code and dependencies stay root-owned and read-only to the process; it runs as `node` (uid 1000).
# tsx caches compiled modules under /tmp (an emptyDir in Kubernetes, where the root fs is read-only).
USER 1000:1000
EXPOSE 8081 8082 8083 8084 8090
ENTRYPOINT ["node", "--single-threaded-gc", "--initial-old-space-size=128", "--import", "tsx"]
CMD ["services/ingest/src/main.ts"]
