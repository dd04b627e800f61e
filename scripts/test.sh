#!/usr/bin/env bash
# `npm test`: lint, type check, unit tests (no network), then the real servers and the integration
# tests, the 40-agent hierarchy e2e, and last the chaos suite. Servers this run starts are stopped
# at the end; ones already running are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

npx eslint .
npx tsc --noEmit -p tsconfig.json
npx vitest run --project unit

bash infra/ensure-local-services.sh
trap 'bash infra/down.sh --only-started' EXIT
bash infra/up.sh
npx vitest run --project integration
npx vitest run --project e2e
# Last, and alone: it kill -9s the orchestrator's processes and restarts PostgreSQL, Redis and Kafka
# (it starts each again itself, so the servers are up when it ends, whatever its outcome).
npx vitest run --project chaos
