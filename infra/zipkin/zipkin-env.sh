# shellcheck shell=bash
# Settings and probes shared by infra/zipkin/start.sh and stop.sh. Source it after ../lib.sh.

ZIPKIN_HOST="${ZIPKIN_HOST:-127.0.0.1}"   # where to probe: Zipkin binds every interface
ZIPKIN_PORT="${ZIPKIN_PORT:-9411}"
ZIPKIN_STATE_DIR="$(realpath -m "${ZIPKIN_STATE_DIR:-$INFRA_STATE/zipkin}")"
ZIPKIN_START_TIMEOUT="${ZIPKIN_START_TIMEOUT:-90}"
ZIPKIN_STOP_TIMEOUT="${ZIPKIN_STOP_TIMEOUT:-20}"
ZIPKIN_JAR_NAME=zipkin-server-3.5.1-exec.jar
# On the JVM's command line so that stop.sh finds exactly the server started from this state dir.
ZIPKIN_STATE_MARK="-Damas.infra.state=$ZIPKIN_STATE_DIR"

# zipkin_ok HOST PORT: Zipkin's health endpoint says UP there (not merely an open socket).
zipkin_ok() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "GET /health HTTP/1.0\r\nHost: %s:%s\r\n\r\n" "$1" "$2" >&3
    grep -q "\"UP\"" <&3' _ "$1" "$2" 2>/dev/null
}

# The server for infra/lib.sh's infra_* functions (the SRV_* list is there).
# shellcheck disable=SC2034  # read by infra/lib.sh
{
  SRV_NAME=zipkin SRV_SPEAKS="Zipkin's HTTP API" SRV_WHAT="a Zipkin server" SRV_PROBE=zipkin_ok
  SRV_HOST=$ZIPKIN_HOST SRV_PORT=$ZIPKIN_PORT SRV_ADDR=http://$ZIPKIN_HOST:$ZIPKIN_PORT
  SRV_STATE_DIR=$ZIPKIN_STATE_DIR SRV_PID_FILE=$ZIPKIN_STATE_DIR/zipkin.pid
  SRV_LOG=$ZIPKIN_STATE_DIR/zipkin.log SRV_MARKS=("$ZIPKIN_JAR_NAME" "$ZIPKIN_STATE_MARK")
  SRV_START_TIMEOUT=$ZIPKIN_START_TIMEOUT SRV_STOP_TIMEOUT=$ZIPKIN_STOP_TIMEOUT
  SRV_CLEAN=${ZIPKIN_CLEAN:-0}
}
