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

infra_stop_main "$@"
