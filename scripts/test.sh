#!/usr/bin/env bash
# npm test: services up (Kafka, Redis) → topics → type-check → lint → unit tests → integration tests.
# Prints the wall time of each step. Leaves a broker it started running (faster reruns) unless
# STOP_SERVICES_AFTER_TEST=1, in which case it stops only what this run started.
# Tests that need an optional tool (kcat, chromium, promtool, kubectl, docker-compose) skip without it
# and the summary names each missing tool; REQUIRE_ALL_TOOLS=1 (set by .ci/run) makes them fail instead.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export KAFKA_PORT="${KAFKA_PORT:-9092}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

T_ALL="$(date +%s%3N)"
declare -a SUMMARY=()
started_kafka=0
started_redis=0
# The vitest runs append "skipped N: <tool> not found — `<install>`" lines here (scripts/tool-skips-reporter.ts).
WA_TOOL_SKIPS_FILE="$(mktemp -t wa-tool-skips.XXXXXX)"
export WA_TOOL_SKIPS_FILE

step() {
  local name="$1"
  shift
  local t0 rc=0
  t0="$(date +%s%3N)"
  printf '\n=== %s\n' "$name"
  "$@" || rc=$?
  local secs
  secs="$(awk -v a="$t0" -v b="$(date +%s%3N)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
  SUMMARY+=("$(printf '%-28s %8ss  %s' "$name" "$secs" "$([[ $rc == 0 ]] && echo ok || echo "FAILED (exit $rc)")")")
  printf '=== %s: %ss%s\n' "$name" "$secs" "$([[ $rc == 0 ]] || echo " — FAILED (exit $rc)")"
  return "$rc"
}

finish() {
  local rc=$?
  if [[ "${STOP_SERVICES_AFTER_TEST:-0}" == 1 ]]; then
    [[ $started_kafka == 1 ]] && bash scripts/kafka.sh stop || true
    [[ $started_redis == 1 ]] && bash scripts/redis.sh stop || true
  fi
  local total
  total="$(awk -v a="$T_ALL" -v b="$(date +%s%3N)" 'BEGIN { printf "%.1f", (b - a) / 1000 }')"
  printf '\n--- npm test summary\n'
  printf '%s\n' "${SUMMARY[@]}"
  printf '%-28s %8ss  %s\n' 'total' "$total" "$([[ $rc == 0 ]] && echo passed || echo FAILED)"
  if [[ -s "$WA_TOOL_SKIPS_FILE" ]]; then
    printf '\nTests skipped for a missing optional tool (REQUIRE_ALL_TOOLS=1 makes them fail):\n'
    sed 's/^/  /' "$WA_TOOL_SKIPS_FILE"
  fi
  rm -f "$WA_TOOL_SKIPS_FILE"
  exit "$rc"
}
trap finish EXIT

# Only a broker on the default local address is ours to start; a remote KAFKA_BROKERS must already answer.
if [[ "$KAFKA_BROKERS" == "127.0.0.1:$KAFKA_PORT" || "$KAFKA_BROKERS" == "localhost:$KAFKA_PORT" ]]; then
  bash scripts/kafka.sh status >/dev/null 2>&1 || started_kafka=1
  step "kafka (ensure)" bash scripts/kafka.sh start
fi
bash scripts/redis.sh status >/dev/null 2>&1 || started_redis=1
step "redis (ensure)" bash scripts/redis.sh ensure
step "topics" npx tsx scripts/create-topics.ts
# The checks run even after one fails, so a single run reports every problem.
failed=0
step "typecheck" npx tsc -p tsconfig.json --noEmit || failed=1
step "lint" npx eslint . || failed=1
step "unit tests" npx vitest run --project unit || failed=1
step "integration tests" npx vitest run --project integration || failed=1
exit "$failed"
