#!/usr/bin/env bash
# Start a local ElasticMQ (SQS-compatible, in-memory queues) in the background.
# Idempotent: when an SQS endpoint already answers on ELASTICMQ_HOST:ELASTICMQ_PORT it exits 0 and
# starts nothing. Otherwise: resolve the classpath (Maven, once), launch the JVM and wait until
# the endpoint answers ListQueues.
#
# Env: ELASTICMQ_PORT (9324)  ELASTICMQ_HOST (127.0.0.1)  ELASTICMQ_STATE_DIR (.infra/elasticmq: pid, log)
#      ELASTICMQ_HEAP_OPTS (-Xmx256m)  ELASTICMQ_START_TIMEOUT (60 s)  ELASTICMQ_JAVA (java binary)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib.sh
source "$HERE/../lib.sh"
# shellcheck source=infra/elasticmq/elasticmq-env.sh
source "$HERE/elasticmq-env.sh"
ADDR="$ELASTICMQ_HOST:$ELASTICMQ_PORT"

if elasticmq_sqs_ok "$ELASTICMQ_HOST" "$ELASTICMQ_PORT"; then
  infra_log "elasticmq: an SQS endpoint already answers on $ADDR: nothing to do"
  exit 0
fi

mkdir -p "$ELASTICMQ_STATE_DIR"
exec 9>"$ELASTICMQ_STATE_DIR/start.lock"
flock -w "$ELASTICMQ_START_TIMEOUT" 9 || infra_die "elasticmq: another start.sh holds $ELASTICMQ_STATE_DIR/start.lock"
if elasticmq_sqs_ok "$ELASTICMQ_HOST" "$ELASTICMQ_PORT"; then
  infra_log "elasticmq: an SQS endpoint answers on $ADDR (started meanwhile): nothing to do"
  exit 0
fi

pid=$(elasticmq_our_pid || true)
if [[ -z $pid ]]; then
  port_open "$ELASTICMQ_HOST" "$ELASTICMQ_PORT" \
    && infra_die "elasticmq: $ADDR is taken by a process that does not speak SQS (set ELASTICMQ_PORT)"
  ensure_classpath "$HERE"
  JAVA=$(INFRA_JAVA=${ELASTICMQ_JAVA:-${INFRA_JAVA:-}} java_bin)
  [[ -f $ELASTICMQ_LOG ]] && mv -f "$ELASTICMQ_LOG" "$ELASTICMQ_LOG.1"   # keep one previous run
  read -ra HEAP_OPTS <<<"${ELASTICMQ_HEAP_OPTS:--Xmx256m}"
  JVM_OPTS=(
    "${HEAP_OPTS[@]}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true "-Dconfig.file=$HERE/elasticmq.conf" "${ELASTICMQ_MARKS[1]}"
  )
  infra_log "elasticmq: starting on $ADDR (log: $ELASTICMQ_LOG)"
  # Own session (outlives the caller's Ctrl-C); bash writes its pid, then execs java in its place.
  # shellcheck disable=SC2016  # expanded by the inner bash
  ELASTICMQ_HOST=$ELASTICMQ_HOST ELASTICMQ_PORT=$ELASTICMQ_PORT \
    setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$ELASTICMQ_PID_FILE" \
    "$JAVA" "${JVM_OPTS[@]}" -cp "$HERE/lib/*" org.elasticmq.server.Main \
    </dev/null >>"$ELASTICMQ_LOG" 2>&1 9>&- &
  for _ in 1 2 3 4 5 6 7 8 9 10; do [[ -s $ELASTICMQ_PID_FILE ]] && break; sleep 0.1; done
  pid=$(cat "$ELASTICMQ_PID_FILE" 2>/dev/null || true)
  launched=1
else
  infra_log "elasticmq: our server (pid $pid) is still starting: waiting for it"
  launched=0
fi

deadline=$((SECONDS + ELASTICMQ_START_TIMEOUT))
until elasticmq_sqs_ok "$ELASTICMQ_HOST" "$ELASTICMQ_PORT"; do
  if ! pid_alive "$pid"; then
    tail -n 40 "$ELASTICMQ_LOG" >&2 2>/dev/null || true
    rm -f "$ELASTICMQ_PID_FILE"
    infra_die "elasticmq: the server exited during startup; full log: $ELASTICMQ_LOG"
  fi
  if ((SECONDS >= deadline)); then
    tail -n 40 "$ELASTICMQ_LOG" >&2 2>/dev/null || true
    infra_die "elasticmq: not ready after ${ELASTICMQ_START_TIMEOUT}s (pid $pid still running; stop it with infra/elasticmq/stop.sh); full log: $ELASTICMQ_LOG"
  fi
  sleep 0.3
done
((launched)) && record_started elasticmq
infra_log "elasticmq: ready on $ADDR (pid $pid, ${SECONDS}s)"
