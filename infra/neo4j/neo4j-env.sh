# shellcheck shell=bash
# Settings and probes shared by infra/neo4j/start.sh and stop.sh. Source it after ../lib.sh.

NEO4J_HOST="${NEO4J_HOST:-127.0.0.1}"
NEO4J_PORT="${NEO4J_PORT:-7687}"
NEO4J_STATE_DIR="$(realpath -m "${NEO4J_STATE_DIR:-$INFRA_STATE/neo4j}")"
NEO4J_DATA_DIR="$(realpath -m "${NEO4J_DATA_DIR:-$NEO4J_STATE_DIR/dbms}")"
NEO4J_START_TIMEOUT="${NEO4J_START_TIMEOUT:-120}"
NEO4J_STOP_TIMEOUT="${NEO4J_STOP_TIMEOUT:-30}"
NEO4J_PID_FILE="$NEO4J_STATE_DIR/neo4j.pid"
NEO4J_LOG="$NEO4J_STATE_DIR/neo4j.log"
export NEO4J_HOST NEO4J_PORT   # read by Neo4jMain.java

# bolt_handshake_ok HOST PORT: a Bolt server answers the handshake there (not merely an open
# socket). We send the magic 0x6060B017 and four proposals (5.0-5.8, 4.2-4.4, 4.1, 3.0); a Bolt
# server answers with the 4-byte version it picked, all zeros when it supports none of them.
bolt_handshake_ok() {
  local out
  # shellcheck disable=SC2016  # expanded by the inner bash
  out=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "\x60\x60\xb0\x17\x00\x08\x08\x05\x00\x02\x04\x04\x00\x00\x01\x04\x00\x00\x00\x03" >&3
    head -c 4 <&3 | od -An -tx1' _ "$1" "$2" 2>/dev/null) || return 1
  out=$(tr -d ' \n' <<<"$out")
  [[ ${#out} == 8 && $out != 00000000 ]]
}

# neo4j_our_pid: pid of the server started from this state dir, if it is running.
neo4j_our_pid() {
  local pid marks=(Neo4jMain.java "$NEO4J_DATA_DIR")
  pid=$(cat "$NEO4J_PID_FILE" 2>/dev/null || true)
  if pid_alive "$pid" && pid_cmdline_has "$pid" "${marks[@]}"; then echo "$pid"; return 0; fi
  # The pid file may be gone (e.g. .infra/ wiped by hand): look for our exact data dir.
  pid=$(find_pid_by_cmdline java "${marks[@]}") || return 1
  mkdir -p "$NEO4J_STATE_DIR" && echo "$pid" >"$NEO4J_PID_FILE"
  echo "$pid"
}

# neo4j_running_state: prints a description and succeeds when a ready Neo4j serves the port.
neo4j_running_state() {
  bolt_handshake_ok "$NEO4J_HOST" "$NEO4J_PORT" || return 1
  local pid
  if pid=$(neo4j_our_pid); then
    # Ours: ready once the launcher printed its ready line (the default database is online).
    grep -q 'Neo4j ready on' "$NEO4J_LOG" 2>/dev/null || return 1
    echo "our server (pid $pid) is already running"
  else
    echo "a Bolt server not started from $NEO4J_STATE_DIR is already answering"
  fi
}
