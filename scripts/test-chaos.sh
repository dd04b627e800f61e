#!/usr/bin/env bash
# `npm run test:chaos` / `npm run test:e2e`: the vitest project named by $1 (chaos: kills processes
# and restarts PostgreSQL, Redis and Kafka; e2e: 40 SDK agents on all four servers). Starts the
# servers it needs and stops those it started.
set -euo pipefail
cd "$(dirname "$0")/.."
project=${1:?usage: test-chaos.sh <chaos|e2e>}
bash infra/ensure-local-services.sh
# This run's own record: a server an earlier, manual infra/up.sh started is not this run's to stop.
export INFRA_STARTED_FILE="$PWD/.infra/started-by-test-$$"
trap 'bash infra/down.sh --only-started; rm -f "$INFRA_STARTED_FILE"' EXIT
bash infra/up.sh kafka neo4j
npx vitest run --project "$project"
