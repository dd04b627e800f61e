# shellcheck shell=bash
# Settings and probes shared by infra/neo4j/start.sh and stop.sh. Source it after ../lib.sh.

NEO4J_HOST="${NEO4J_HOST:-127.0.0.1}"
NEO4J_PORT="${NEO4J_PORT:-7687}"
NEO4J_STATE_DIR="$(realpath -m "${NEO4J_STATE_DIR:-$INFRA_STATE/neo4j}")"
NEO4J_DATA_DIR="$(realpath -m "${NEO4J_DATA_DIR:-$NEO4J_STATE_DIR/dbms}")"
NEO4J_START_TIMEOUT="${NEO4J_START_TIMEOUT:-120}"
NEO4J_STOP_TIMEOUT="${NEO4J_STOP_TIMEOUT:-30}"
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

# The server for infra/lib.sh's infra_* functions (the SRV_* list is there).
# shellcheck disable=SC2034  # read by infra/lib.sh
{
  SRV_NAME=neo4j SRV_SPEAKS=Bolt SRV_WHAT="a Bolt server"
  SRV_HOST=$NEO4J_HOST SRV_PORT=$NEO4J_PORT SRV_ADDR=bolt://$NEO4J_HOST:$NEO4J_PORT
  SRV_STATE_DIR=$NEO4J_STATE_DIR SRV_PID_FILE=$NEO4J_STATE_DIR/neo4j.pid SRV_LOG=$NEO4J_STATE_DIR/neo4j.log
  SRV_START_TIMEOUT=$NEO4J_START_TIMEOUT SRV_STOP_TIMEOUT=$NEO4J_STOP_TIMEOUT
  # Ready = a Bolt handshake answers and the launcher printed its ready line (printed after the
  # default database answered a query).
  SRV_PROBE=bolt_handshake_ok SRV_READY_LINE='Neo4j ready on'
  SRV_MARKS=(Neo4jMain.java "$NEO4J_DATA_DIR")   # our exact data dir
  SRV_MORE_LOGS=$NEO4J_DATA_DIR/logs/debug.log
  SRV_CLEAN=${NEO4J_CLEAN:-0} SRV_CLEAN_DIRS=("$NEO4J_DATA_DIR" "$NEO4J_STATE_DIR")
}
