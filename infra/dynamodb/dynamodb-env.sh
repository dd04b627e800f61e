# shellcheck shell=bash
# Settings and probes shared by infra/dynamodb/start.sh and stop.sh. Source it after ../lib.sh.

DYNAMODB_HOST="${DYNAMODB_HOST:-127.0.0.1}"   # where to probe: DynamoDB Local binds every interface
DYNAMODB_PORT="${DYNAMODB_PORT:-8001}"        # not 8000: that is the API's
DYNAMODB_STATE_DIR="$(realpath -m "${DYNAMODB_STATE_DIR:-$INFRA_STATE/dynamodb}")"
DYNAMODB_START_TIMEOUT="${DYNAMODB_START_TIMEOUT:-60}"
DYNAMODB_STOP_TIMEOUT="${DYNAMODB_STOP_TIMEOUT:-20}"
DYNAMODB_MAIN=software.amazon.dynamodb.services.local.main.ServerRunner
# On the JVM's command line so that stop.sh finds exactly the server started from this state dir.
DYNAMODB_STATE_MARK="-Damas.infra.state=$DYNAMODB_STATE_DIR"

# dynamodb_ok HOST PORT: a DynamoDB endpoint answers ListTables there (not merely an open socket).
# DynamoDB Local checks that a SigV4 Authorization header is present, not that it is valid.
dynamodb_ok() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    body="{}"
    printf "POST / HTTP/1.0\r\nHost: %s:%s\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Type: application/x-amz-json-1.0\r\nAuthorization: AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: %s\r\n\r\n%s" "$1" "$2" "${#body}" "$body" >&3
    grep -q TableNames <&3' _ "$1" "$2" 2>/dev/null
}

# The server for infra/lib.sh's infra_* functions (the SRV_* list is there).
# shellcheck disable=SC2034  # read by infra/lib.sh
{
  SRV_NAME=dynamodb SRV_SPEAKS=DynamoDB SRV_WHAT="a DynamoDB endpoint" SRV_PROBE=dynamodb_ok
  SRV_HOST=$DYNAMODB_HOST SRV_PORT=$DYNAMODB_PORT SRV_ADDR=$DYNAMODB_HOST:$DYNAMODB_PORT
  SRV_STATE_DIR=$DYNAMODB_STATE_DIR SRV_PID_FILE=$DYNAMODB_STATE_DIR/dynamodb.pid
  SRV_LOG=$DYNAMODB_STATE_DIR/dynamodb.log SRV_MARKS=("$DYNAMODB_MAIN" "$DYNAMODB_STATE_MARK")
  SRV_START_TIMEOUT=$DYNAMODB_START_TIMEOUT SRV_STOP_TIMEOUT=$DYNAMODB_STOP_TIMEOUT
  SRV_CLEAN=${DYNAMODB_CLEAN:-0}
}
