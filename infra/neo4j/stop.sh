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

infra_stop_main "$@"
