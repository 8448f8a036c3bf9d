#!/usr/bin/env bash
# Local Apache Kafka 3.9.1 broker for development: KRaft, single node
# (combined broker + controller) on 127.0.0.1. No Docker; the jars come from
# Maven Central through `mvn` (scripts/kafka/pom.xml) and are cached.
#
#   scripts/kafka.sh start          start (idempotent) and wait until it answers
#   scripts/kafka.sh stop [--wipe]  stop (idempotent); --wipe also deletes the data dir
#   scripts/kafka.sh status         print running/stopped; exit 0/1
#
# Environment:
#   KAFKA_PORT             broker port                (9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port      (9093)
#   KAFKA_SASL_PORT        SASL_PLAINTEXT listener    (9094; mechanism PLAIN)
#   KAFKA_SASL_USER        its one user               (monitor)
#   KAFKA_SASL_PASSWORD    its password               (local-dev-sasl-password; loopback only)
#   KAFKA_DATA_DIR         data, logs, pid file       (/tmp/outcome-monitor-kafka)
#   KAFKA_CACHE_DIR        jar cache                  (~/.cache/outcome-monitor/kafka-3.9.1)
#   KAFKA_HEAP_OPTS        broker heap                (-Xmx512m -Xms256m)
#   KAFKA_START_TIMEOUT_S  how long `start` waits for the broker to answer (60)
#
# Files: $KAFKA_DATA_DIR/{server.properties,kafka.pid,kafka.out,logs/server.log,data/}
#
# CLI tools with the same jars, e.g.:
#   java -cp "$KAFKA_CACHE_DIR/libs/*" org.apache.kafka.tools.TopicCommand \
#        --bootstrap-server 127.0.0.1:9092 --list
set -euo pipefail

KAFKA_VERSION=3.9.1
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONF_DIR="$SCRIPT_DIR/kafka"
POM="$CONF_DIR/pom.xml"

PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
SASL_PORT="${KAFKA_SASL_PORT:-9094}"
SASL_USER="${KAFKA_SASL_USER:-monitor}"
SASL_PASSWORD="${KAFKA_SASL_PASSWORD:-local-dev-sasl-password}"
DATA_DIR="${KAFKA_DATA_DIR:-/tmp/outcome-monitor-kafka}"
CACHE_DIR="${KAFKA_CACHE_DIR:-$HOME/.cache/outcome-monitor/kafka-$KAFKA_VERSION}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"

LIBS="$CACHE_DIR/libs"
CP="$LIBS/*"
PID_FILE="$DATA_DIR/kafka.pid"
OUT_FILE="$DATA_DIR/kafka.out"
PROPS="$DATA_DIR/server.properties"
BOOTSTRAP="127.0.0.1:$PORT"

START_TIMEOUT_S="${KAFKA_START_TIMEOUT_S:-60}"
STOP_TIMEOUT_S=30

log() { printf 'kafka: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH ($2)"; }

# Short-lived JVM for the CLI tools: quick startup, console logging at WARN.
tool() {
  java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto \
    -Dlog4j.configuration="file:$CONF_DIR/log4j.properties" \
    -Dkafka.root.logger="WARN, console" \
    -cp "$CP" "$@"
}

# --- process helpers --------------------------------------------------------

read_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [[ -n "$pid" ]] || return 1
  printf '%s\n' "$pid"
}

# True if $1 is a live kafka.Kafka process (guards against a recycled pid).
is_broker_pid() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 0   # no /proc: trust kill -0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka '
}

# Managed broker pid on stdout, or return 1.
running_pid() {
  local pid
  pid="$(read_pid)" || return 1
  is_broker_pid "$pid" || return 1
  printf '%s\n' "$pid"
}

# Cheap check: does anything accept TCP connections on the broker port?
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

# Real check: a Kafka broker answers an ApiVersions request on the port.
broker_answers() {
  timeout 20 java -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto \
    -Dlog4j.configuration="file:$CONF_DIR/log4j.properties" \
    -Dkafka.root.logger="OFF" \
    -cp "$CP" kafka.admin.BrokerApiVersionsCommand --bootstrap-server "$BOOTSTRAP" \
    2>/dev/null | grep -q "^$BOOTSTRAP "
}

# --- jars ------------------------------------------------------------------

pom_hash() { sha256sum "$POM" | cut -d' ' -f1; }

ensure_jars() {
  local marker="$LIBS/.complete"
  if [[ -f "$marker" && "$(cat "$marker")" == "$(pom_hash)" \
        && -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    return 0
  fi
  need mvn "needed once, to fetch the Kafka jars from Maven Central"
  mkdir -p "$CACHE_DIR"
  local tmp="$CACHE_DIR/libs.tmp.$$" mvn_log="$CACHE_DIR/mvn.log"
  log "fetching jars from Maven Central (first run; log: $mvn_log)…"
  local t0; t0="$(now)"
  rm -rf "$tmp"
  if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
        -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    rm -rf "$tmp"
    tail -n 20 "$mvn_log" | sed 's/^/  mvn: /' >&2 || true
    die "fetching jars with mvn failed (network? ~/.m2/settings.xml?); full log: $mvn_log"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] \
    || die "mvn succeeded but kafka_2.13-$KAFKA_VERSION.jar is missing from $tmp; log: $mvn_log"
  pom_hash >"$tmp/.complete"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  log "jars ready in $LIBS ($(find "$LIBS" -name '*.jar' | wc -l) jars, $(elapsed "$t0")s)"
}

# --- config / storage ------------------------------------------------------

render_props() {
  local esc_dir
  esc_dir="$(printf '%s' "$DATA_DIR" | sed 's/[&|\\]/\\&/g')"
  sed -e "s|@KAFKA_PORT@|$PORT|g" \
      -e "s|@KAFKA_CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
      -e "s|@KAFKA_SASL_PORT@|$SASL_PORT|g" \
      -e "s|@KAFKA_SASL_USER@|$SASL_USER|g" \
      -e "s|@KAFKA_SASL_PASSWORD@|$SASL_PASSWORD|g" \
      -e "s|@KAFKA_DATA_DIR@|$esc_dir|g" \
      "$CONF_DIR/server.properties" >"$PROPS.tmp"
  mv "$PROPS.tmp" "$PROPS"
}

ensure_formatted() {
  if [[ -f "$DATA_DIR/data/meta.properties" ]]; then
    return 0
  fi
  local cluster_id
  cluster_id="$(tool kafka.tools.StorageTool random-uuid)" \
    || die "kafka.tools.StorageTool random-uuid failed"
  log "formatting KRaft storage in $DATA_DIR/data (cluster id $cluster_id)"
  tool kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPS" \
    >"$DATA_DIR/format.log" 2>&1 \
    || { cat "$DATA_DIR/format.log" >&2; die "formatting storage failed"; }
}

# --- commands --------------------------------------------------------------

wait_ready() {
  local pid="$1" t0="$2" deadline=$((SECONDS + START_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      log "broker exited during startup; last lines of $OUT_FILE:"
      tail -n 30 "$OUT_FILE" | sed 's/^/  /' >&2 || true
      die "see also $DATA_DIR/logs/server.log"
    fi
    # Poll the cheap TCP check first; launch a JVM probe only once it listens.
    if port_open && broker_answers; then
      log "started on $BOOTSTRAP (pid $pid) in $(elapsed "$t0")s"
      return 0
    fi
    sleep 0.5
  done
  log "broker (pid $pid) did not answer on $BOOTSTRAP within ${START_TIMEOUT_S}s; it is left running"
  log "inspect $OUT_FILE and $DATA_DIR/logs/server.log, then: $0 stop"
  exit 1
}

cmd_start() {
  local t0; t0="$(now)"
  need java "Java 17 is required"
  mkdir -p "$DATA_DIR"
  # Serialise concurrent start/stop; fd 9 is closed for the broker below so
  # the lock is not held for the broker's lifetime.
  exec 9>"$DATA_DIR/.lock"
  flock 9

  local pid
  if pid="$(running_pid)"; then
    if port_open && ensure_jars && broker_answers; then
      log "already running on $BOOTSTRAP (pid $pid)"
      return 0
    fi
    log "pid $pid is running but not answering yet; waiting"
    wait_ready "$pid" "$t0"
    return 0
  fi
  rm -f "$PID_FILE"

  ensure_jars
  if port_open; then
    if broker_answers; then
      log "a Kafka broker not started by this script already answers on $BOOTSTRAP; reusing it"
      return 0
    fi
    die "127.0.0.1:$PORT is in use by something that is not a Kafka broker (set KAFKA_PORT)"
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$CONTROLLER_PORT") 2>/dev/null; then
    die "controller port 127.0.0.1:$CONTROLLER_PORT is in use (set KAFKA_CONTROLLER_PORT)"
  fi

  render_props
  ensure_formatted
  mkdir -p "$DATA_DIR/logs"

  # shellcheck disable=SC2086  # HEAP_OPTS is a list of JVM flags
  nohup setsid java $HEAP_OPTS \
    -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$CONF_DIR/log4j.properties" \
    -Dkafka.root.logger="INFO, file, console" \
    -Dkafka.logs.dir="$DATA_DIR/logs" \
    -cp "$CP" kafka.Kafka "$PROPS" \
    >"$OUT_FILE" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  log "starting broker (pid $pid), waiting for it to answer on $BOOTSTRAP…"
  wait_ready "$pid" "$t0"
}

cmd_stop() {
  local wipe=0
  case "${1:-}" in
    "") ;;
    --wipe) wipe=1 ;;
    *) die "usage: $0 stop [--wipe]" ;;
  esac
  if [[ ! -d "$DATA_DIR" ]]; then
    log "not running"
    return 0
  fi
  exec 9>"$DATA_DIR/.lock"
  flock 9

  local pid
  if pid="$(running_pid)"; then
    local t0; t0="$(now)"
    log "stopping pid $pid…"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT_S))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid still alive after ${STOP_TIMEOUT_S}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
    fi
    log "stopped pid $pid in $(elapsed "$t0")s"
  else
    log "not running"
  fi
  rm -f "$PID_FILE"

  if ((wipe)); then
    case "$(cd "$DATA_DIR" && pwd -P)" in
      / | "$HOME" | /tmp | /root) die "refusing to wipe $DATA_DIR" ;;
    esac
    exec 9>&-
    rm -rf "$DATA_DIR"
    log "wiped $DATA_DIR"
  fi
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    echo "running (pid $pid, 127.0.0.1:$PORT, data $DATA_DIR)"
    return 0
  fi
  if port_open; then
    echo "stopped (no broker managed by this script; but something listens on 127.0.0.1:$PORT)"
  else
    echo "stopped"
  fi
  return 1
}

case "${1:-}" in
  start) shift; [[ $# -eq 0 ]] || die "usage: $0 start"; cmd_start ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status ;;
  *) echo "usage: $0 start | stop [--wipe] | status" >&2; exit 2 ;;
esac
