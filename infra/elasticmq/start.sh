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

infra_start_guarded   # exits 0 when an SQS endpoint answers; INFRA_PID set = ours is still booting
if [[ -z $INFRA_PID ]]; then
  ensure_classpath "$HERE"
  JAVA=$(java_bin "${ELASTICMQ_JAVA:-}")
  read -ra HEAP_OPTS <<<"${ELASTICMQ_HEAP_OPTS:--Xmx256m}"
  JVM_OPTS=(
    "${HEAP_OPTS[@]}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true "-Dconfig.file=$HERE/elasticmq.conf" "$ELASTICMQ_STATE_MARK"
  )
  export ELASTICMQ_HOST ELASTICMQ_PORT   # elasticmq.conf's ${?ELASTICMQ_HOST} / ${?ELASTICMQ_PORT}
  infra_launch "$JAVA" "${JVM_OPTS[@]}" -cp "$HERE/lib/*" "$ELASTICMQ_MAIN"
fi
infra_wait_ready
infra_started
