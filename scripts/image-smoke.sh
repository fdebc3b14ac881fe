#!/usr/bin/env bash
# Image smoke test without a container engine: assembles the image's /app the way the Dockerfile
# does (its own manifest COPYs and RUN step, then the runtime COPYs filtered by .dockerignore),
# then, as uid 1000 like the image's USER:
#   1. loads every service's module graph (service.ts) through tsx,
#   2. starts the Cloud API simulator and waits until it listens,
#   3. if Kafka answers at KAFKA_BROKERS (and Redis at REDIS_URL), creates topics under a random
#      prefix with scripts/create-topics.ts, starts ingest, dispatcher (against the simulator) and
#      webhook one by one until /readyz is 200, stops each with SIGTERM (expects exit 0), then
#      deletes the topics and the prefixed Redis keys. Analytics needs a ClickHouse server in the
#      image (chdb is not shipped), so only its module graph is checked.
# Approximations: the base image is this machine's Node, not node:20-bookworm-slim; .dockerignore
# patterns become tar excludes (never narrower than Docker's).
#   npm run validate:image
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$(mktemp -d /tmp/wa-image-XXXXXX)"
APP="$WORK/app"
mkdir -p "$APP"
chmod 755 "$WORK" "$APP"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
as_image_user() { setpriv --reuid=1000 --regid=1000 --clear-groups env HOME=/tmp "$@"; }
# For background jobs: exec, so that $! is the node process itself (signals reach it, not a subshell).
spawn_as_image_user() { exec setpriv --reuid=1000 --regid=1000 --clear-groups env HOME=/tmp "$@"; }
t0=$(date +%s)

# --- deps stage: the Dockerfile's COPY lines before the runtime stage, then its RUN step, verbatim.
runtime_line=$(grep -n '^FROM .* AS runtime' Dockerfile | cut -d: -f1)
head -n "$runtime_line" Dockerfile | grep -E '^COPY ' | grep -v -- '--from' | while read -r _ rest; do
  read -ra parts <<< "$rest"
  dest="${parts[-1]}"
  for src in "${parts[@]:0:${#parts[@]}-1}"; do
    mkdir -p "$APP/$dest"
    cp "$src" "$APP/$dest"
  done
done
run_step=$(awk '/^RUN /{f=1} f{print} f && !/\\$/{exit}' Dockerfile | sed -e 's/^RUN --mount=[^ ]* *\\$//' -e 's/^RUN //')
echo "image-smoke: deps stage (npm install as in the Dockerfile)"
(cd "$APP" && bash -euo pipefail -c "$run_step") > "$WORK/deps.log" 2>&1 || { cat "$WORK/deps.log"; exit 1; }
tail -n 1 "$WORK/deps.log"

# --- runtime stage: COPY <src> <dest> lines after the runtime FROM, filtered by .dockerignore.
excludes=()
while read -r pat; do
  [[ -z "$pat" || "$pat" == \#* || "$pat" == \!* ]] && continue
  excludes+=("--exclude=${pat#\*\*/}")
done < .dockerignore
tail -n +"$runtime_line" Dockerfile | grep -E '^COPY ' | grep -v -- '--from' | while read -r _ src dest; do
  if [[ -d "$src" ]]; then
    mkdir -p "$APP/$dest"
    tar -C "$src" "${excludes[@]}" -cf - . | tar -C "$APP/$dest" -xf -
  else
    cp "$src" "$APP/$dest"
  fi
done
echo "image-smoke: assembled $(du -sh "$APP" | cut -f1) in $(( $(date +%s) - t0 )) s ($(du -sh "$APP/node_modules" | cut -f1) node_modules)"
for devpkg in vitest typescript kubernetes-models; do
  [[ ! -e "$APP/node_modules/$devpkg" ]] || { echo "image-smoke: FAIL dev dependency $devpkg is in the image"; exit 1; }
done

cd "$APP"
# 1. module graphs
for svc in ingest dispatcher webhook analytics; do
  as_image_user node --import tsx --input-type=module -e "await import('./services/$svc/src/service.ts')" \
    || { echo "image-smoke: FAIL services/$svc/src/service.ts does not load in the image"; exit 1; }
  echo "image-smoke: ok   $svc module graph loads"
done

wait_for() { # url seconds
  local deadline=$(( $(date +%s) + $2 ))
  while (( $(date +%s) < deadline )); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}

# 2. the simulator
SIM_PORT=$(( 20000 + RANDOM % 20000 ))
SIM_HOST=127.0.0.1 SIM_PORT=$SIM_PORT spawn_as_image_user node --import tsx tools/cloud-api-sim/src/main.ts > "$WORK/sim.log" 2>&1 &
PIDS+=($!)
deadline=$(( $(date +%s) + 30 ))
until grep -q 'listening' "$WORK/sim.log"; do
  (( $(date +%s) < deadline )) || { cat "$WORK/sim.log"; echo "image-smoke: FAIL simulator did not start"; exit 1; }
  sleep 0.5
done
echo "image-smoke: ok   cloud-api-sim listens ($(head -n1 "$WORK/sim.log" | cut -c1-80))"

# 3. topics + webhook against the local broker
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
if ! (cd "$ROOT" && timeout 20 npx tsx scripts/kafka-ready.ts) > /dev/null 2>&1; then
  echo "image-smoke: skip webhook start: no Kafka at $KAFKA_BROKERS (bash scripts/kafka.sh start)"
  echo "image-smoke: done in $(( $(date +%s) - t0 )) s"
  exit 0
fi
PREFIX="smoke-$(date +%s)-$RANDOM."
delete_topics() {
  (cd "$APP" && TOPIC_PREFIX="$PREFIX" node --input-type=module -e "
    import kafkajs from 'kafkajs';
    const admin = new kafkajs.Kafka({ brokers: process.env.KAFKA_BROKERS.split(','), logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(process.env.TOPIC_PREFIX));
    if (mine.length) await admin.deleteTopics({ topics: mine });
    await admin.disconnect();
    console.log('deleted ' + mine.length + ' topics');
  ") || echo "image-smoke: WARNING could not delete topics $PREFIX*"
}
trap 'delete_topics; cleanup' EXIT
TOPIC_PREFIX="$PREFIX" KAFKA_PARTITIONS=1 as_image_user node --import tsx scripts/create-topics.ts > "$WORK/topics.log" 2>&1 \
  || { cat "$WORK/topics.log"; echo "image-smoke: FAIL create-topics"; exit 1; }
echo "image-smoke: ok   scripts/create-topics.ts ($(tail -n1 "$WORK/topics.log"))"
SECRET="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
declare -A SVC_ENV=(
  [ingest]="INGEST_API_TOKEN=smoke-token CATALOG_PATH=config/catalog.example.json"
  [dispatcher]="CATALOG_PATH=config/catalog.example.json WA_ACCESS_TOKENS=102290129340398=smoke-token ADMIN_TOKEN=smoke-admin RECIPIENT_HASH_SALT=smoke-salt-$SECRET GRAPH_API_BASE_URL=http://127.0.0.1:$SIM_PORT"
  [webhook]="WEBHOOK_APP_SECRETS=smoke=$SECRET WEBHOOK_VERIFY_TOKEN=smoke-verify"
)
for svc in ingest dispatcher webhook; do
  HTTP_PORT=$(( 20000 + RANDOM % 20000 ))
  # shellcheck disable=SC2086
  env TOPIC_PREFIX="$PREFIX" REDIS_KEY_PREFIX="$PREFIX" HTTP_PORT=$HTTP_PORT HTTP_HOST=127.0.0.1 LOG_LEVEL=warn ${SVC_ENV[$svc]} \
    bash -c "$(declare -f spawn_as_image_user); spawn_as_image_user node --import tsx services/$svc/src/main.ts" > "$WORK/$svc.log" 2>&1 &
  pid=$!
  PIDS+=($pid)
  wait_for "http://127.0.0.1:$HTTP_PORT/readyz" 90 || { cat "$WORK/$svc.log"; echo "image-smoke: FAIL $svc never ready"; exit 1; }
  echo "image-smoke: ok   $svc /readyz 200 (port $HTTP_PORT)"
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  [[ $rc == 0 ]] || { cat "$WORK/$svc.log"; echo "image-smoke: FAIL $svc exited $rc after SIGTERM"; exit 1; }
  echo "image-smoke: ok   $svc stopped cleanly on SIGTERM"
done
if command -v redis-cli > /dev/null; then
  redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379}" --scan --pattern "$PREFIX*" | xargs -r redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379}" del > /dev/null || true
fi
echo "image-smoke: done in $(( $(date +%s) - t0 )) s"
