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

infra_stop_main "$@"
