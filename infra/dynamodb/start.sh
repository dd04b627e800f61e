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

infra_start_guarded   # exits 0 when a DynamoDB endpoint answers; INFRA_PID set = ours is still booting
if [[ -z $INFRA_PID ]]; then
  ensure_classpath "$HERE"
  JAVA=$(java_bin "${DYNAMODB_JAVA:-}")
  read -ra HEAP_OPTS <<<"${DYNAMODB_HEAP_OPTS:--Xmx256m}"
  JVM_OPTS=(
    "${HEAP_OPTS[@]}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true "-Dsqlite4java.library.path=$HERE/lib" "$DYNAMODB_STATE_MARK"
  )
  infra_launch "$JAVA" "${JVM_OPTS[@]}" -cp "$HERE/lib/*" "$DYNAMODB_MAIN" \
    -inMemory -sharedDb -disableTelemetry -port "$DYNAMODB_PORT"
fi
infra_wait_ready
infra_started
