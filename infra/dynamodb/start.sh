#!/usr/bin/env bash
# Start a local DynamoDB Local (in-memory, one shared database) in the background.
# Idempotent: when a DynamoDB endpoint already answers on DYNAMODB_HOST:DYNAMODB_PORT it exits 0
# and starts nothing. Otherwise: resolve the classpath (Maven, once), launch the JVM and wait
# until the endpoint answers ListTables. Tables live in memory: a restart starts empty.
#
# Env: DYNAMODB_PORT (8001)  DYNAMODB_HOST (127.0.0.1, probe only)  DYNAMODB_STATE_DIR (.infra/dynamodb)
#      DYNAMODB_HEAP_OPTS (-Xmx256m)  DYNAMODB_START_TIMEOUT (60 s)  DYNAMODB_JAVA (java binary)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib.sh
source "$HERE/../lib.sh"
# shellcheck source=infra/dynamodb/dynamodb-env.sh
source "$HERE/dynamodb-env.sh"
ADDR="$DYNAMODB_HOST:$DYNAMODB_PORT"

if dynamodb_ok "$DYNAMODB_HOST" "$DYNAMODB_PORT"; then
  infra_log "dynamodb: a DynamoDB endpoint already answers on $ADDR: nothing to do"
  exit 0
fi

mkdir -p "$DYNAMODB_STATE_DIR"
exec 9>"$DYNAMODB_STATE_DIR/start.lock"
flock -w "$DYNAMODB_START_TIMEOUT" 9 || infra_die "dynamodb: another start.sh holds $DYNAMODB_STATE_DIR/start.lock"
if dynamodb_ok "$DYNAMODB_HOST" "$DYNAMODB_PORT"; then
  infra_log "dynamodb: a DynamoDB endpoint answers on $ADDR (started meanwhile): nothing to do"
  exit 0
fi

pid=$(dynamodb_our_pid || true)
if [[ -z $pid ]]; then
  port_open "$DYNAMODB_HOST" "$DYNAMODB_PORT" \
    && infra_die "dynamodb: $ADDR is taken by a process that does not speak DynamoDB (set DYNAMODB_PORT)"
  ensure_classpath "$HERE"
  JAVA=$(INFRA_JAVA=${DYNAMODB_JAVA:-${INFRA_JAVA:-}} java_bin)
  [[ -f $DYNAMODB_LOG ]] && mv -f "$DYNAMODB_LOG" "$DYNAMODB_LOG.1"   # keep one previous run
  read -ra HEAP_OPTS <<<"${DYNAMODB_HEAP_OPTS:--Xmx256m}"
  JVM_OPTS=(
    "${HEAP_OPTS[@]}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true "-Dsqlite4java.library.path=$HERE/lib" "${DYNAMODB_MARKS[1]}"
  )
  infra_log "dynamodb: starting DynamoDB Local on port $DYNAMODB_PORT (log: $DYNAMODB_LOG)"
  # Own session (outlives the caller's Ctrl-C); bash writes its pid, then execs java in its place.
  # shellcheck disable=SC2016  # expanded by the inner bash
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$DYNAMODB_PID_FILE" \
    "$JAVA" "${JVM_OPTS[@]}" -cp "$HERE/lib/*" "$DYNAMODB_MAIN" \
    -inMemory -sharedDb -disableTelemetry -port "$DYNAMODB_PORT" \
    </dev/null >>"$DYNAMODB_LOG" 2>&1 9>&- &
  for _ in 1 2 3 4 5 6 7 8 9 10; do [[ -s $DYNAMODB_PID_FILE ]] && break; sleep 0.1; done
  pid=$(cat "$DYNAMODB_PID_FILE" 2>/dev/null || true)
  launched=1
else
  infra_log "dynamodb: our server (pid $pid) is still starting: waiting for it"
  launched=0
fi

deadline=$((SECONDS + DYNAMODB_START_TIMEOUT))
until dynamodb_ok "$DYNAMODB_HOST" "$DYNAMODB_PORT"; do
  if ! pid_alive "$pid"; then
    tail -n 40 "$DYNAMODB_LOG" >&2 2>/dev/null || true
    rm -f "$DYNAMODB_PID_FILE"
    infra_die "dynamodb: the server exited during startup; full log: $DYNAMODB_LOG"
  fi
  if ((SECONDS >= deadline)); then
    tail -n 40 "$DYNAMODB_LOG" >&2 2>/dev/null || true
    infra_die "dynamodb: not ready after ${DYNAMODB_START_TIMEOUT}s (pid $pid still running; stop it with infra/dynamodb/stop.sh); full log: $DYNAMODB_LOG"
  fi
  sleep 0.3
done
((launched)) && record_started dynamodb
infra_log "dynamodb: ready on $ADDR (pid $pid, ${SECONDS}s)"
