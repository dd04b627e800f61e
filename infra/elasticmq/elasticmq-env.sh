# shellcheck shell=bash
# Settings and probes shared by infra/elasticmq/start.sh and stop.sh. Source it after ../lib.sh.

ELASTICMQ_HOST="${ELASTICMQ_HOST:-127.0.0.1}"
ELASTICMQ_PORT="${ELASTICMQ_PORT:-9324}"
ELASTICMQ_STATE_DIR="$(realpath -m "${ELASTICMQ_STATE_DIR:-$INFRA_STATE/elasticmq}")"
ELASTICMQ_START_TIMEOUT="${ELASTICMQ_START_TIMEOUT:-60}"
ELASTICMQ_STOP_TIMEOUT="${ELASTICMQ_STOP_TIMEOUT:-20}"
ELASTICMQ_MAIN=org.elasticmq.server.Main
# On the JVM's command line so that stop.sh finds exactly the server started from this state dir.
ELASTICMQ_STATE_MARK="-Damas.infra.state=$ELASTICMQ_STATE_DIR"

# elasticmq_sqs_ok HOST PORT: an SQS endpoint answers ListQueues there (not merely an open socket).
elasticmq_sqs_ok() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "GET /?Action=ListQueues HTTP/1.0\r\nHost: %s:%s\r\n\r\n" "$1" "$2" >&3
    grep -q ListQueuesResponse <&3' _ "$1" "$2" 2>/dev/null
}

# The server for infra/lib.sh's infra_* functions (the SRV_* list is there).
# shellcheck disable=SC2034  # read by infra/lib.sh
{
  SRV_NAME=elasticmq SRV_SPEAKS=SQS SRV_WHAT="an SQS endpoint" SRV_PROBE=elasticmq_sqs_ok
  SRV_HOST=$ELASTICMQ_HOST SRV_PORT=$ELASTICMQ_PORT SRV_ADDR=$ELASTICMQ_HOST:$ELASTICMQ_PORT
  SRV_STATE_DIR=$ELASTICMQ_STATE_DIR SRV_PID_FILE=$ELASTICMQ_STATE_DIR/elasticmq.pid
  SRV_LOG=$ELASTICMQ_STATE_DIR/elasticmq.log SRV_MARKS=("$ELASTICMQ_MAIN" "$ELASTICMQ_STATE_MARK")
  SRV_START_TIMEOUT=$ELASTICMQ_START_TIMEOUT SRV_STOP_TIMEOUT=$ELASTICMQ_STOP_TIMEOUT
  SRV_CLEAN=${ELASTICMQ_CLEAN:-0}
}
