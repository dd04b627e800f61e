#!/usr/bin/env bash
# `npm test`: lint, type check, unit tests (no network), then the real servers and the integration
# tests. Servers this run starts are stopped at the end; ones already running are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

npx eslint .
npx tsc --noEmit -p tsconfig.json
npx vitest run --project unit

bash infra/ensure-local-services.sh
trap 'bash infra/down.sh --only-started' EXIT
bash infra/up.sh
npx vitest run --project integration
