#!/usr/bin/env bash
# Start local servers: infra/up.sh [server ...]   (default: every server in INFRA_SERVERS, lib.sh)
# Each infra/<server>/start.sh is idempotent. The servers this run actually launched are
# recorded in .infra/started-by-up (or the file INFRA_STARTED_FILE names), so `infra/down.sh
# --only-started` stops exactly those and leaves alone whatever was already running before. A
# script that stops what it started names a file of its own: the default one also holds what
# earlier, manual up.sh runs started, which that script must leave running.
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

servers=("$@")
((${#servers[@]})) || servers=("${INFRA_SERVERS[@]}")
export INFRA_STARTED_FILE="${INFRA_STARTED_FILE:-$INFRA_STATE/started-by-up}"

for server in "${servers[@]}"; do
  [[ -f $INFRA_ROOT/infra/$server/start.sh ]] || infra_die "unknown server '$server' (known: ${INFRA_SERVERS[*]})"
done
# In parallel: most of a start is a JVM booting and a probe waiting, and the servers do not need
# each other (their Maven resolutions take turns, ensure_classpath). A failure names its server.
mkdir -p "$INFRA_STATE"
pids=()
for server in "${servers[@]}"; do
  bash "$INFRA_ROOT/infra/$server/start.sh" &
  pids+=($!)
done
failed=()
for i in "${!servers[@]}"; do
  wait "${pids[$i]}" || failed+=("${servers[$i]}")
done
((${#failed[@]} == 0)) || infra_die "could not start: ${failed[*]} (their messages are above)"
