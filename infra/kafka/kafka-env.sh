# shellcheck shell=bash
# Settings and probes shared by infra/kafka/start.sh and stop.sh. Source it after ../lib.sh.

KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_STATE_DIR="$(realpath -m "${KAFKA_STATE_DIR:-$INFRA_STATE/kafka}")"
KAFKA_DATA_DIR="$(realpath -m "${KAFKA_DATA_DIR:-$KAFKA_STATE_DIR/data}")"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

# kafka_probe HOST PORT REQUEST: send one request (printf escapes, correlation id 1) and succeed
# when the answer has correlation id 1 and error code 0 (the first field of both responses below).
kafka_probe() {
  local out bytes
  # shellcheck disable=SC2016  # expanded by the inner bash
  out=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "$3" >&3
    head -c 10 <&3 | od -An -tx1' _ "$1" "$2" "$3" 2>/dev/null) || return 1
  read -ra bytes <<<"$out"
  out="${bytes[*]}"   # "size(4 bytes) correlation_id(4) error_code(2)" on one line
  [[ $out =~ ^([0-9a-f]{2}\ ){4}00\ 00\ 00\ 01\ 00\ 00$ ]]
}

# kafka_api_versions_ok HOST PORT: a Kafka broker serves there (not merely an open socket).
# ApiVersions v0: size 15 | api_key 18 | version 0 | correlation_id 1 | client_id "probe"
kafka_api_versions_ok() {
  kafka_probe "$1" "$2" '\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x01\x00\x05probe'
}

# kafka_group_coordinator_ok HOST PORT: a group coordinator is available. The first such request
# makes the broker create __consumer_offsets, which a fresh broker otherwise does on the first
# consumer's join (kafkajs then logs "group coordinator is not available" while it retries).
# FindCoordinator v0: size 22 | api_key 10 | version 0 | correlation_id 1 | client_id | key "probe"
kafka_group_coordinator_ok() {
  kafka_probe "$1" "$2" '\x00\x00\x00\x16\x00\x0a\x00\x00\x00\x00\x00\x01\x00\x05probe\x00\x05probe'
}

# The server for infra/lib.sh's infra_* functions (the SRV_* list is there).
# shellcheck disable=SC2034  # read by infra/lib.sh
{
  SRV_NAME=kafka SRV_NOUN=broker SRV_SPEAKS=Kafka SRV_WHAT="a Kafka broker"
  SRV_HOST=$KAFKA_HOST SRV_PORT=$KAFKA_PORT SRV_ADDR=$KAFKA_HOST:$KAFKA_PORT
  SRV_STATE_DIR=$KAFKA_STATE_DIR SRV_PID_FILE=$KAFKA_STATE_DIR/kafka.pid SRV_LOG=$KAFKA_STATE_DIR/kafka.log
  SRV_START_TIMEOUT=$KAFKA_START_TIMEOUT SRV_STOP_TIMEOUT=$KAFKA_STOP_TIMEOUT
  # Ready = ApiVersions answers and the broker logged that it started (it has joined its own
  # quorum and is unfenced; ApiVersions can answer a bit earlier).
  SRV_PROBE=kafka_api_versions_ok SRV_READY_LINE='Kafka Server started'
  SRV_MARKS=(kafka.Kafka "$KAFKA_STATE_DIR/server.properties")   # our exact config path
  SRV_CLEAN=${KAFKA_CLEAN:-0} SRV_CLEAN_DIRS=("$KAFKA_DATA_DIR" "$KAFKA_STATE_DIR")
}
