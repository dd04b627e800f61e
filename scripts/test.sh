#!/usr/bin/env bash
# `npm test`: lint, type check, unit tests (no network), then the real servers and the integration
# tests, the 40-agent hierarchy e2e, and last the chaos suite. Servers this run starts are stopped
# at the end; ones already running are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

npx prettier --check . --log-level warn
npx eslint .
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p console/tsconfig.json
npx vitest run --project unit

# The web console in real headless Chromium: Debian's package, never a browser download.
if [ ! -x /usr/bin/chromium ]; then
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
fi
npx tsx scripts/build-console.ts --if-missing
npx vitest run --project browser

bash infra/ensure-local-services.sh
# This run's own record: a server an earlier, manual infra/up.sh started is not this run's to stop.
export INFRA_STARTED_FILE="$PWD/.infra/started-by-test-$$"
trap 'bash infra/down.sh --only-started; rm -f "$INFRA_STARTED_FILE"' EXIT
bash infra/up.sh
npx vitest run --project integration
npx vitest run --project e2e
# Last, and alone: it kill -9s the orchestrator's processes and restarts PostgreSQL, Redis and Kafka
# (it starts each again itself, so the servers are up when it ends, whatever its outcome).
npx vitest run --project chaos
