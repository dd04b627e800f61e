#!/usr/bin/env bash
# Stop the local ElasticMQ started by infra/elasticmq/start.sh (TERM, then KILL after
# ELASTICMQ_STOP_TIMEOUT seconds). Idempotent; never touches a server it did not start.
#   --clean (or ELASTICMQ_CLEAN=1): also delete the state dir (pid, log). Queues are in memory anyway.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib.sh
source "$HERE/../lib.sh"
# shellcheck source=infra/elasticmq/elasticmq-env.sh
source "$HERE/elasticmq-env.sh"

clean=${ELASTICMQ_CLEAN:-0}
for arg in "$@"; do
  case $arg in
    --clean) clean=1 ;;
    *) infra_die "usage: $0 [--clean]" ;;
  esac
done

if pid=$(elasticmq_our_pid); then
  stop_pid "$pid" elasticmq "$ELASTICMQ_STOP_TIMEOUT"
  infra_log "elasticmq: stopped"
else
  infra_log "elasticmq: not running (from $ELASTICMQ_STATE_DIR): nothing to stop"
fi
rm -f "$ELASTICMQ_PID_FILE"

if [[ $clean == 1 ]]; then
  infra_log "elasticmq: deleting $ELASTICMQ_STATE_DIR"
  safe_rm_rf "$ELASTICMQ_STATE_DIR"
fi
