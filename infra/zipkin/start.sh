#!/usr/bin/env bash
# Start a local Zipkin server (in-memory span storage, HTTP API and collector on one port) in the
# background. Idempotent: when a Zipkin server already answers /health on ZIPKIN_HOST:ZIPKIN_PORT
# it exits 0 and starts nothing. Otherwise: resolve the exec jar (Maven, once), launch
# `java -jar` and wait until /health says UP. Spans live in memory: a restart starts empty.
#
# Env: ZIPKIN_PORT (9411)  ZIPKIN_HOST (127.0.0.1, probe only)  ZIPKIN_STATE_DIR (.infra/zipkin: pid, log)
#      ZIPKIN_HEAP_OPTS (-Xmx256m)  ZIPKIN_START_TIMEOUT (90 s)  ZIPKIN_JAVA (java binary, 17+)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib.sh
source "$HERE/../lib.sh"
# shellcheck source=infra/zipkin/zipkin-env.sh
source "$HERE/zipkin-env.sh"

infra_start_guarded   # exits 0 when Zipkin answers; INFRA_PID set = ours is still booting
if [[ -z $INFRA_PID ]]; then
  ensure_classpath "$HERE"
  JAVA=$(java_bin "${ZIPKIN_JAVA:-}")
  read -ra HEAP_OPTS <<<"${ZIPKIN_HEAP_OPTS:--Xmx256m}"
  JVM_OPTS=(
    "${HEAP_OPTS[@]}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true "$ZIPKIN_STATE_MARK"
  )
  # Zipkin reads its settings from the environment: in-memory storage, a small span cap (a test
  # double), no self-tracing, its banner off.
  export QUERY_PORT=$ZIPKIN_PORT STORAGE_TYPE=mem MEM_MAX_SPANS=${ZIPKIN_MEM_MAX_SPANS:-200000} SELF_TRACING_ENABLED=false
  infra_launch "$JAVA" "${JVM_OPTS[@]}" -jar "$HERE/lib/$ZIPKIN_JAR_NAME" --spring.main.banner-mode=off --armeria.ports[0].ip=127.0.0.1 --armeria.ports[0].port="$ZIPKIN_PORT" --armeria.ports[0].protocols[0]=http
fi
infra_wait_ready
infra_started
