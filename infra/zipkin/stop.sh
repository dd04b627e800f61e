#!/usr/bin/env bash
# Stop the local Zipkin started by infra/zipkin/start.sh (TERM, then KILL after
# ZIPKIN_STOP_TIMEOUT seconds). Idempotent; never touches a server it did not start.
#   --clean (or ZIPKIN_CLEAN=1): also delete the state dir (pid, log). Spans are in memory anyway.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib.sh
source "$HERE/../lib.sh"
# shellcheck source=infra/zipkin/zipkin-env.sh
source "$HERE/zipkin-env.sh"

infra_stop_main "$@"
