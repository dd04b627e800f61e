#!/usr/bin/env bash
# Start the local Kafka broker (KRaft, one combined broker+controller node) in the background.
# Idempotent: when a Kafka broker already answers on KAFKA_HOST:KAFKA_PORT it exits 0 and starts
# nothing. Otherwise: resolve the classpath (Maven, once), write the config, format the storage
# (first start only), launch the JVM, and wait until the broker is really serving.
#
# Env: KAFKA_PORT (9092)  KAFKA_CONTROLLER_PORT (KAFKA_PORT+1)  KAFKA_HOST (127.0.0.1)
#      KAFKA_STATE_DIR (.infra/kafka: config, pid, log)  KAFKA_DATA_DIR ($KAFKA_STATE_DIR/data)
#      KAFKA_HEAP_OPTS (-Xmx512m -Xms256m)  KAFKA_START_TIMEOUT (90 s)  KAFKA_JAVA (java binary)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib.sh
source "$HERE/../lib.sh"
# shellcheck source=infra/kafka/kafka-env.sh
source "$HERE/kafka-env.sh"

if ready_state=$(kafka_running_state); then
  infra_log "kafka: $ready_state on $KAFKA_HOST:$KAFKA_PORT: nothing to do"
  exit 0
fi

mkdir -p "$KAFKA_STATE_DIR"
# Serialise concurrent starts (two terminals, parallel CI steps) on one lock.
exec 9>"$KAFKA_STATE_DIR/start.lock"
flock -w "$KAFKA_START_TIMEOUT" 9 || infra_die "kafka: another start.sh holds $KAFKA_STATE_DIR/start.lock"
if ready_state=$(kafka_running_state); then
  infra_log "kafka: $ready_state on $KAFKA_HOST:$KAFKA_PORT (started meanwhile): nothing to do"
  exit 0
fi

# Our own JVM may still be booting (pid alive, not yet answering): wait for it, start nothing.
pid=$(kafka_our_pid || true)
if [[ -z $pid ]]; then
  port_open "$KAFKA_HOST" "$KAFKA_PORT" \
    && infra_die "kafka: $KAFKA_HOST:$KAFKA_PORT is taken by a process that does not speak Kafka (set KAFKA_PORT)"
  port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT" \
    && infra_die "kafka: controller port $KAFKA_HOST:$KAFKA_CONTROLLER_PORT is taken (set KAFKA_CONTROLLER_PORT)"

  ensure_classpath "$HERE"
  JAVA=$(INFRA_JAVA=${KAFKA_JAVA:-${INFRA_JAVA:-}} java_bin)
  CP="$HERE/lib/*"
  CONFIG="$KAFKA_STATE_DIR/server.properties"
  mkdir -p "$KAFKA_DATA_DIR"
  sed -e "s|@HOST@|$KAFKA_HOST|g" -e "s|@PORT@|$KAFKA_PORT|g" \
      -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$KAFKA_DATA_DIR|g" \
      "$HERE/server.properties.template" >"$CONFIG"

  TOOL_OPTS=(-Xmx256m -XX:TieredStopAtLevel=1 "-Dlog4j.configuration=file:$HERE/log4j.properties" -cp "$CP")
  if [[ ! -f $KAFKA_DATA_DIR/meta.properties ]]; then
    # A Kafka Uuid: 16 random bytes, URL-safe base64 without padding, not starting with '-'.
    cluster_id=-
    while [[ $cluster_id == -* ]]; do
      cluster_id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    done
    infra_log "kafka: formatting KRaft storage in $KAFKA_DATA_DIR (cluster $cluster_id)"
    "$JAVA" "${TOOL_OPTS[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" \
      --ignore-formatted >"$KAFKA_STATE_DIR/format.log" 2>&1 \
      || { cat "$KAFKA_STATE_DIR/format.log" >&2; infra_die "kafka: storage format failed"; }
  fi

  [[ -f $KAFKA_LOG ]] && mv -f "$KAFKA_LOG" "$KAFKA_LOG.1"   # keep one previous run
  # G1 flags are Kafka's own defaults (kafka-run-class.sh); the heap is capped for a shared box.
  read -ra HEAP_OPTS <<<"${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
  JVM_OPTS=(
    "${HEAP_OPTS[@]}"
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$HERE/log4j.properties" "-Dkafka.logs.dir=$KAFKA_STATE_DIR"
  )
  infra_log "kafka: starting broker on $KAFKA_HOST:$KAFKA_PORT (log: $KAFKA_LOG)"
  # setsid: own session, so the broker outlives the calling shell and its Ctrl-C.
  # bash writes its own pid and then execs java, so the pid file names the JVM itself.
  # shellcheck disable=SC2016  # expanded by the inner bash
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$KAFKA_PID_FILE" \
    "$JAVA" "${JVM_OPTS[@]}" -cp "$CP" kafka.Kafka "$CONFIG" \
    </dev/null >>"$KAFKA_LOG" 2>&1 9>&- &
  for _ in 1 2 3 4 5 6 7 8 9 10; do [[ -s $KAFKA_PID_FILE ]] && break; sleep 0.1; done
  pid=$(cat "$KAFKA_PID_FILE" 2>/dev/null || true)
  launched=1
else
  infra_log "kafka: our broker (pid $pid) is still starting: waiting for it"
  launched=0
fi

# Ready = the process is alive, the port answers a Kafka ApiVersions request, and the broker
# logged "Kafka Server started" (it has joined its own quorum and is unfenced).
deadline=$((SECONDS + KAFKA_START_TIMEOUT))
until kafka_api_versions_ok "$KAFKA_HOST" "$KAFKA_PORT" && grep -q 'Kafka Server started' "$KAFKA_LOG" 2>/dev/null; do
  if ! pid_alive "$pid"; then
    tail -n 40 "$KAFKA_LOG" >&2 2>/dev/null || true
    rm -f "$KAFKA_PID_FILE"
    infra_die "kafka: the broker exited during startup; full log: $KAFKA_LOG"
  fi
  if ((SECONDS >= deadline)); then
    tail -n 40 "$KAFKA_LOG" >&2 2>/dev/null || true
    infra_die "kafka: not ready after ${KAFKA_START_TIMEOUT}s (pid $pid still running; stop it with infra/kafka/stop.sh); full log: $KAFKA_LOG"
  fi
  sleep 0.5
done
# Warm up: have the broker create __consumer_offsets now rather than on the first group join.
until kafka_group_coordinator_ok "$KAFKA_HOST" "$KAFKA_PORT"; do
  if ((SECONDS >= deadline)); then infra_log "kafka: WARNING: no group coordinator yet (see $KAFKA_LOG)"; break; fi
  sleep 0.3
done
((launched)) && record_started kafka
infra_log "kafka: ready on $KAFKA_HOST:$KAFKA_PORT (pid $pid, ${SECONDS}s)"
