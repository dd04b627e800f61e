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

infra_stop_main "$@"
