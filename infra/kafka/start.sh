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

infra_start_guarded   # exits 0 when a broker answers; INFRA_PID set = ours is still booting
if [[ -z $INFRA_PID ]]; then
  port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT" \
    && infra_die "kafka: controller port $KAFKA_HOST:$KAFKA_CONTROLLER_PORT is taken (set KAFKA_CONTROLLER_PORT)"

  ensure_classpath "$HERE"
  JAVA=$(java_bin "${KAFKA_JAVA:-}")
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

  # G1 flags are Kafka's own defaults (kafka-run-class.sh); the heap is capped for a shared box.
  read -ra HEAP_OPTS <<<"${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
  JVM_OPTS=(
    "${HEAP_OPTS[@]}"
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$HERE/log4j.properties" "-Dkafka.logs.dir=$KAFKA_STATE_DIR"
  )
  infra_launch "$JAVA" "${JVM_OPTS[@]}" -cp "$CP" kafka.Kafka "$CONFIG"
fi

infra_wait_ready
# Warm up: have the broker create __consumer_offsets now rather than on the first group join.
until kafka_group_coordinator_ok "$KAFKA_HOST" "$KAFKA_PORT"; do
  if ((SECONDS >= INFRA_DEADLINE)); then infra_log "kafka: WARNING: no group coordinator yet (see $SRV_LOG)"; break; fi
  sleep 0.3
done
infra_started
