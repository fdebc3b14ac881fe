# Sourced by scripts/kafka.sh (one node) and scripts/kafka-cluster.sh (three nodes): fetching the jars,
# formatting storage, launching a node, waiting until it answers, stopping it. Each node is described by
# its directory RUN_DIR (server.properties, log4j2.properties, kafka.pid, kafka.out, format.out) and its
# log directory. The sourcing script sets ROOT and defines log().
# shellcheck shell=bash

POM="$ROOT/deploy/local/kafka/pom.xml"
KAFKA_VERSION="${KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1)}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
KAFKA_NUM_PARTITIONS="${KAFKA_NUM_PARTITIONS:-6}"
CACHE="${KAFKA_CACHE_DIR:-$ROOT/.cache/kafka}"
LIBS="$CACHE/$KAFKA_VERSION/libs"

now_ms() { date +%s%3N; }
secs_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# node_pid RUN_DIR — the pid of the broker of RUN_DIR/server.properties: the one in RUN_DIR/kafka.pid, or
# one found running without it (a start that failed half-way removed the file), which the file then names again.
node_pid() {
  local pid=""
  [[ -f "$1/kafka.pid" ]] && pid="$(cat "$1/kafka.pid")"
  if [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $1/server.properties"; then
    echo "$pid"
    return 0
  fi
  pid="$(pgrep -n -f "kafka\.Kafka $1/server\.properties" 2>/dev/null)" || return 1
  echo "$pid" >"$1/kafka.pid"
  echo "$pid"
}

# answers PORT [TIMEOUT_MS] — an open port is not enough: the broker must answer Metadata with itself
# registered (joined the quorum, unfenced); topic creation fails until it has.
answers() {
  local tsx="$ROOT/node_modules/.bin/tsx"
  if [[ -x "$tsx" ]]; then
    KAFKA_BROKERS="127.0.0.1:$1" "$tsx" "$ROOT/scripts/kafka-ready.ts" "${2:-5000}" >/dev/null 2>&1
  else
    java -cp "$LIBS/*" org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "127.0.0.1:$1" >/dev/null 2>&1
  fi
}

fetch() {
  if [[ -f "$LIBS/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || { log "Maven (mvn) is required to fetch Kafka $KAFKA_VERSION: apt-get install -y maven"; exit 1; }
  command -v java >/dev/null || { log "Java 17+ is required: apt-get install -y openjdk-17-jre-headless"; exit 1; }
  local t0
  t0="$(now_ms)"
  log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $LIBS"
  rm -rf "$LIBS"
  mkdir -p "$LIBS"
  mvn -q -B -Dstyle.color=never -f "$POM" -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIBS"
  ls "$LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null
  touch "$LIBS/.complete"
  log "fetched $(ls "$LIBS" | wc -l) jars in $(secs_since "$t0")s"
}

# new_cluster_id — 16 random bytes, base64url without padding (what `kafka-storage random-uuid` prints).
# It starts with "-" one time in 64: always pass it as `--cluster-id=<id>`, never as a separate
# argument that the option parser would take for a flag ("argument --cluster-id: expected one argument").
new_cluster_id() { head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

# log4j_flags RUN_DIR — the broker's log configuration: log4j2 (Kafka 4), and log4j.properties when the
# node has one (reload4j, used only when the pinned version is a 3.x).
log4j_flags() {
  echo "-Dlog4j2.configurationFile=$1/log4j2.properties"
  [[ -f "$1/log4j.properties" ]] && echo "-Dlog4j.configuration=file:$1/log4j.properties"
  return 0
}

# format_node RUN_DIR CLUSTER_ID — format the node's log dir (a no-op when it is formatted already).
format_node() {
  local flags
  mapfile -t flags < <(log4j_flags "$1")
  java -Xmx256m -cp "$LIBS/*" "${flags[@]}" kafka.tools.StorageTool format "--cluster-id=$2" -c "$1/server.properties" \
    --ignore-formatted >"$1/format.out" 2>&1 || { cat "$1/format.out" >&2; exit 1; }
}

# launch_node RUN_DIR LOG_DIR — start the broker in the background; its pid goes to RUN_DIR/kafka.pid.
launch_node() {
  local flags
  mapfile -t flags < <(log4j_flags "$1")
  # setsid: the broker must outlive the shell (and the npm/vitest process group) that started it.
  # shellcheck disable=SC2086
  setsid nohup java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    "${flags[@]}" -Dkafka.logs.dir="$2" -cp "$LIBS/*" kafka.Kafka "$1/server.properties" >"$1/kafka.out" 2>&1 </dev/null 9>&- &
  echo "$!" >"$1/kafka.pid"
}

# wait_until_answers RUN_DIR LOG_DIR PORT DEADLINE — poll until the node answers Metadata on PORT; fail
# (with the last lines of its output and log) when it exits first or DEADLINE (epoch seconds) passes.
wait_until_answers() {
  until port_open "$3" && answers "$3" 5000; do
    if ! node_pid "$1" >/dev/null; then
      log "broker on 127.0.0.1:$3 exited during start-up; last lines of $1/kafka.out and the server log:"
      tail -n 20 "$1/kafka.out" >&2 || true
      tail -n 40 "$2/server.log" >&2 || true
      rm -f "$1/kafka.pid"
      exit 1
    fi
    if (($(date +%s) > $4)); then
      log "broker on 127.0.0.1:$3 did not answer in time; see $2/server.log"
      exit 1
    fi
    sleep 0.3
  done
}

# stop_node RUN_DIR — SIGTERM (controlled shutdown), up to 30 s, then SIGKILL. 1 when no node of ours runs.
stop_node() {
  local pid i
  pid="$(node_pid "$1")" || { rm -f "$1/kafka.pid"; return 1; }
  log "stopping pid $pid (SIGTERM: controlled shutdown)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still alive after 30 s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$1/kafka.pid"
}

# write_log4j2 FILE LOG_DIR BACKUPS — server.log in LOG_DIR, rolled at 20 MB, BACKUPS files kept;
# state-change and request loggers at warn (they log every partition move and request at info).
write_log4j2() {
  local file="$1" log_dir="$2" backups="$3"
  cat >"$file" <<EOF2
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $log_dir/server.log
appender.file.filePattern = $log_dir/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = $backups
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.statechange.name = state.change.logger
logger.statechange.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
EOF2
}
