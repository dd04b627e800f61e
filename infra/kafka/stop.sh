#!/usr/bin/env bash
# Stop the local Kafka broker started by infra/kafka/start.sh (TERM, then KILL after
# KAFKA_STOP_TIMEOUT seconds). Idempotent: does nothing when it is not running. Never touches a
# broker it did not start (one without our pid file / config path).
#   --clean (or KAFKA_CLEAN=1): also delete the state dir (config, log, data): next start is fresh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib.sh
source "$HERE/../lib.sh"
# shellcheck source=infra/kafka/kafka-env.sh
source "$HERE/kafka-env.sh"

clean=${KAFKA_CLEAN:-0}
for arg in "$@"; do
  case $arg in
    --clean) clean=1 ;;
    *) infra_die "usage: $0 [--clean]" ;;
  esac
done

if pid=$(kafka_our_pid); then
  stop_pid "$pid" kafka "$KAFKA_STOP_TIMEOUT"
  infra_log "kafka: stopped"
else
  infra_log "kafka: not running (from $KAFKA_STATE_DIR): nothing to stop"
fi
rm -f "$KAFKA_PID_FILE"

if [[ $clean == 1 ]]; then
  infra_log "kafka: deleting $KAFKA_DATA_DIR and $KAFKA_STATE_DIR"
  safe_rm_rf "$KAFKA_DATA_DIR"
  safe_rm_rf "$KAFKA_STATE_DIR"
fi
