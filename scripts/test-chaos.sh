#!/usr/bin/env bash
# `npm run test:chaos`: the chaos suite alone (it kills processes and restarts PostgreSQL, Redis
# and Kafka). Starts the servers it needs and stops those it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/ensure-local-services.sh
trap 'bash infra/down.sh --only-started' EXIT
bash infra/up.sh kafka neo4j
npx vitest run --project chaos
