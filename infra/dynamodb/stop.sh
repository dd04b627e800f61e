#!/usr/bin/env bash
# Stop DynamoDB Local as started by infra/dynamodb/start.sh (TERM, then KILL after
# DYNAMODB_STOP_TIMEOUT seconds). Idempotent; never touches a server it did not start.
#   --clean (or DYNAMODB_CLEAN=1): also delete the state dir (pid, log). Tables are in memory anyway.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib.sh
source "$HERE/../lib.sh"
# shellcheck source=infra/dynamodb/dynamodb-env.sh
source "$HERE/dynamodb-env.sh"

clean=${DYNAMODB_CLEAN:-0}
for arg in "$@"; do
  case $arg in
    --clean) clean=1 ;;
    *) infra_die "usage: $0 [--clean]" ;;
  esac
done

if pid=$(dynamodb_our_pid); then
  stop_pid "$pid" dynamodb "$DYNAMODB_STOP_TIMEOUT"
  infra_log "dynamodb: stopped"
else
  infra_log "dynamodb: not running (from $DYNAMODB_STATE_DIR): nothing to stop"
fi
rm -f "$DYNAMODB_PID_FILE"

if [[ $clean == 1 ]]; then
  infra_log "dynamodb: deleting $DYNAMODB_STATE_DIR"
  safe_rm_rf "$DYNAMODB_STATE_DIR"
fi
