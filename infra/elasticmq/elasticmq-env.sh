# shellcheck shell=bash
# Settings and probes shared by infra/elasticmq/start.sh and stop.sh. Source it after ../lib.sh.

ELASTICMQ_HOST="${ELASTICMQ_HOST:-127.0.0.1}"
ELASTICMQ_PORT="${ELASTICMQ_PORT:-9324}"
ELASTICMQ_STATE_DIR="$(realpath -m "${ELASTICMQ_STATE_DIR:-$INFRA_STATE/elasticmq}")"
ELASTICMQ_START_TIMEOUT="${ELASTICMQ_START_TIMEOUT:-60}"
ELASTICMQ_STOP_TIMEOUT="${ELASTICMQ_STOP_TIMEOUT:-20}"
ELASTICMQ_PID_FILE="$ELASTICMQ_STATE_DIR/elasticmq.pid"
# shellcheck disable=SC2034  # read by start.sh
ELASTICMQ_LOG="$ELASTICMQ_STATE_DIR/elasticmq.log"
# On the JVM's command line so that stop.sh finds exactly the server started from this state dir.
ELASTICMQ_MARKS=(org.elasticmq.server.Main "-Damas.infra.state=$ELASTICMQ_STATE_DIR")

# elasticmq_sqs_ok HOST PORT: an SQS endpoint answers ListQueues there (not merely an open socket).
elasticmq_sqs_ok() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "GET /?Action=ListQueues HTTP/1.0\r\nHost: %s:%s\r\n\r\n" "$1" "$2" >&3
    grep -q ListQueuesResponse <&3' _ "$1" "$2" 2>/dev/null
}

# elasticmq_our_pid: pid of the server started from this state dir, if it is running.
elasticmq_our_pid() {
  local pid
  pid=$(cat "$ELASTICMQ_PID_FILE" 2>/dev/null || true)
  if pid_alive "$pid" && pid_cmdline_has "$pid" "${ELASTICMQ_MARKS[@]}"; then echo "$pid"; return 0; fi
  pid=$(find_pid_by_cmdline "${ELASTICMQ_MARKS[@]}") || return 1
  mkdir -p "$ELASTICMQ_STATE_DIR" && echo "$pid" >"$ELASTICMQ_PID_FILE"
  echo "$pid"
}
