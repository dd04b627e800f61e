#!/usr/bin/env bash
# Start local servers: infra/up.sh [server ...]   (default: every server in INFRA_SERVERS, lib.sh)
# Each infra/<server>/start.sh is idempotent. The servers this run actually launched are
# recorded in .infra/started-by-up, so `infra/down.sh --only-started` stops exactly those and
# leaves alone whatever was already running before.
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

servers=("$@")
((${#servers[@]})) || servers=("${INFRA_SERVERS[@]}")
export INFRA_STARTED_FILE="$INFRA_STATE/started-by-up"

for server in "${servers[@]}"; do
  [[ -f $INFRA_ROOT/infra/$server/start.sh ]] || infra_die "unknown server '$server' (known: ${INFRA_SERVERS[*]})"
done
for server in "${servers[@]}"; do
  bash "$INFRA_ROOT/infra/$server/start.sh"
done
