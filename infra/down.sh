#!/usr/bin/env bash
# Stop local servers: infra/down.sh [--only-started] [--clean] [server ...]
#   (no names)       every server in INFRA_SERVERS (lib.sh), in reverse start order
#   --only-started   only those that infra/up.sh launched (listed in .infra/started-by-up, or
#                    in the file INFRA_STARTED_FILE names):
#                    what CI uses, so a server that was already running stays up
#   --clean          also delete each stopped server's data (passed on to its stop.sh)
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

only_started=0 stop_args=() servers=()
for arg in "$@"; do
  case $arg in
    --only-started) only_started=1 ;;
    --clean) stop_args+=(--clean) ;;
    -*) infra_die "usage: $0 [--only-started] [--clean] [server ...]" ;;
    *) servers+=("$arg") ;;
  esac
done
started_file="${INFRA_STARTED_FILE:-$INFRA_STATE/started-by-up}"

((${#servers[@]})) || servers=("${INFRA_SERVERS[@]}")
if ((only_started)); then
  recorded=$(cat "$started_file" 2>/dev/null || true)
  kept=()
  for server in "${servers[@]}"; do grep -qx "$server" <<<"$recorded" && kept+=("$server"); done
  servers=("${kept[@]}")
  ((${#servers[@]})) || { infra_log "nothing was started by infra/up.sh: nothing to stop"; exit 0; }
fi

for ((i = ${#servers[@]} - 1; i >= 0; i--)); do
  server=${servers[i]}
  [[ -f $INFRA_ROOT/infra/$server/stop.sh ]] || infra_die "unknown server '$server' (known: ${INFRA_SERVERS[*]})"
  bash "$INFRA_ROOT/infra/$server/stop.sh" "${stop_args[@]}"
  # Stopped: no longer "started by up".
  if [[ -f $started_file ]]; then
    grep -vx "$server" "$started_file" >"$started_file.tmp" || true
    mv "$started_file.tmp" "$started_file"
    [[ -s $started_file ]] || rm -f "$started_file"
  fi
done
