#!/usr/bin/env bash
# Redis for local runs and tests.
#
#   bash scripts/redis.sh ensure   exit 0 when REDIS_URL answers PING; if nothing answers on a local
#                                  address and redis-server is installed, start one (daemonized,
#                                  data in .cache/redis) and wait for it
#   bash scripts/redis.sh status   exit 0 when REDIS_URL answers PING
#   bash scripts/redis.sh stop     shut down only a redis-server this script started
#
# Env: REDIS_URL (redis://127.0.0.1:6379).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
CACHE="$ROOT/.cache/redis"

log() { printf '[redis] %s\n' "$*" >&2; }

# redis://[user:password@]host[:port][/db] → host and port (enough for a PING and a local start).
hostport="${REDIS_URL#*://}"
hostport="${hostport##*@}"
hostport="${hostport%%/*}"
REDIS_HOST="${hostport%%:*}"
REDIS_PORT="${hostport##*:}"
[[ "$REDIS_PORT" == "$hostport" || -z "$REDIS_PORT" ]] && REDIS_PORT=6379
PID_FILE="$CACHE/redis-$REDIS_PORT.pid"

ping() {
  if command -v redis-cli >/dev/null; then
    [[ "$(timeout 3 redis-cli -u "$REDIS_URL" --no-auth-warning PING 2>/dev/null)" == "PONG" ]]
  else
    # No redis-cli: speak RESP directly.
    local reply
    reply="$(timeout 3 bash -c "exec 3<>/dev/tcp/$REDIS_HOST/$REDIS_PORT && printf 'PING\r\n' >&3 && head -c 7 <&3" 2>/dev/null || true)"
    [[ "$reply" == +PONG* || "$reply" == -NOAUTH* ]]
  fi
}

ensure() {
  if ping; then
    log "answers at $REDIS_HOST:$REDIS_PORT"
    return 0
  fi
  if [[ "$REDIS_HOST" != "127.0.0.1" && "$REDIS_HOST" != "localhost" ]]; then
    log "nothing answers at $REDIS_URL, and it is not a local address this script could start a server on"
    exit 1
  fi
  if ! command -v redis-server >/dev/null; then
    log "nothing answers at $REDIS_URL and redis-server is not installed."
    log "install one (Debian/Ubuntu: sudo apt-get install -y redis-server), or point REDIS_URL at a running Redis."
    exit 1
  fi
  mkdir -p "$CACHE"
  local t0
  t0="$(date +%s%3N)"
  # No persistence: this server exists for local runs and tests only.
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$CACHE" \
    --pidfile "$PID_FILE" --logfile "$CACHE/redis-$REDIS_PORT.log" --save '' --appendonly no >/dev/null
  local i
  for ((i = 0; i < 100; i++)); do
    if ping; then
      log "started redis-server on 127.0.0.1:$REDIS_PORT (pid $(cat "$PID_FILE" 2>/dev/null || echo '?')) in $(($(date +%s%3N) - t0)) ms"
      return 0
    fi
    sleep 0.1
  done
  log "redis-server did not answer within 10 s; see $CACHE/redis-$REDIS_PORT.log"
  exit 1
}

stop() {
  if [[ ! -f "$PID_FILE" ]]; then
    log "no redis-server started by this script on port $REDIS_PORT"
    return 0
  fi
  local pid
  pid="$(cat "$PID_FILE")"
  if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q redis-server; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    log "stopped pid $pid"
  fi
  rm -f "$PID_FILE"
}

case "${1:-}" in
  ensure) ensure ;;
  status) ping && echo "answers at $REDIS_HOST:$REDIS_PORT" || { echo "nothing answers at $REDIS_URL"; exit 1; } ;;
  stop) stop ;;
  *)
    echo "usage: $0 ensure|status|stop" >&2
    exit 2
    ;;
esac
