#!/usr/bin/env bash
# Stop the local Neo4j server started by infra/neo4j/start.sh (TERM, which runs the launcher's
# shutdown hook and a clean store shutdown; KILL after NEO4J_STOP_TIMEOUT seconds). Idempotent:
# does nothing when it is not running. Never touches a server it did not start.
#   --clean (or NEO4J_CLEAN=1): also delete the state dir (store, logs): next start is empty.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib.sh
source "$HERE/../lib.sh"
# shellcheck source=infra/neo4j/neo4j-env.sh
source "$HERE/neo4j-env.sh"

clean=${NEO4J_CLEAN:-0}
for arg in "$@"; do
  case $arg in
    --clean) clean=1 ;;
    *) infra_die "usage: $0 [--clean]" ;;
  esac
done

if pid=$(neo4j_our_pid); then
  stop_pid "$pid" neo4j "$NEO4J_STOP_TIMEOUT"
  infra_log "neo4j: stopped"
else
  infra_log "neo4j: not running (from $NEO4J_STATE_DIR): nothing to stop"
fi
rm -f "$NEO4J_PID_FILE"

if [[ $clean == 1 ]]; then
  infra_log "neo4j: deleting $NEO4J_DATA_DIR and $NEO4J_STATE_DIR"
  safe_rm_rf "$NEO4J_DATA_DIR"
  safe_rm_rf "$NEO4J_STATE_DIR"
fi
