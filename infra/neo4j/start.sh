#!/usr/bin/env bash
# Start the local Neo4j server (5.26 LTS, embedded DBMS + Bolt, auth off) in the background.
# Idempotent: when a Bolt server already answers on NEO4J_HOST:NEO4J_PORT it exits 0 and starts
# nothing. Otherwise: resolve the classpath (Maven, once), launch Neo4jMain.java in source-file
# mode, and wait until Bolt answers a handshake and the launcher printed its ready line.
#
# Env: NEO4J_PORT (7687)  NEO4J_HOST (127.0.0.1)  NEO4J_STATE_DIR (.infra/neo4j: pid, log)
#      NEO4J_DATA_DIR ($NEO4J_STATE_DIR/dbms: store and Neo4j's own logs)
#      NEO4J_HEAP_OPTS (-Xmx1g -Xms256m)  NEO4J_PAGECACHE (64m)  NEO4J_START_TIMEOUT (120 s)
#      NEO4J_JAVA (java binary; must be 17-20: Neo4j 5.26 does not run on newer)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/lib.sh
source "$HERE/../lib.sh"
# shellcheck source=infra/neo4j/neo4j-env.sh
source "$HERE/neo4j-env.sh"

if ready_state=$(neo4j_running_state); then
  infra_log "neo4j: $ready_state on $NEO4J_HOST:$NEO4J_PORT: nothing to do"
  exit 0
fi

mkdir -p "$NEO4J_STATE_DIR"
# Serialise concurrent starts (two terminals, parallel CI steps) on one lock.
exec 9>"$NEO4J_STATE_DIR/start.lock"
flock -w "$NEO4J_START_TIMEOUT" 9 || infra_die "neo4j: another start.sh holds $NEO4J_STATE_DIR/start.lock"
if ready_state=$(neo4j_running_state); then
  infra_log "neo4j: $ready_state on $NEO4J_HOST:$NEO4J_PORT (started meanwhile): nothing to do"
  exit 0
fi

# Our own JVM may still be booting (pid alive, not yet answering): wait for it, start nothing.
pid=$(neo4j_our_pid || true)
if [[ -z $pid ]]; then
  port_open "$NEO4J_HOST" "$NEO4J_PORT" \
    && infra_die "neo4j: $NEO4J_HOST:$NEO4J_PORT is taken by a process that does not speak Bolt (set NEO4J_PORT)"

  ensure_classpath "$HERE"
  JAVA=$(INFRA_JAVA=${NEO4J_JAVA:-${INFRA_JAVA:-}} java_bin)
  mkdir -p "$NEO4J_DATA_DIR"

  [[ -f $NEO4J_LOG ]] && mv -f "$NEO4J_LOG" "$NEO4J_LOG.1"   # keep one previous run
  read -ra HEAP_OPTS <<<"${NEO4J_HEAP_OPTS:--Xmx1g -Xms256m}"
  # The opens are Neo4j's own defaults (neo4j.conf's server.jvm.additional). On Java 17 it runs
  # without them, but the page cache falls back to slower heap buffers (no DirectByteBuffer
  # access: java.nio) and file advice fails with "Incorrect file descriptor" (sun.nio.ch, java.io).
  JVM_OPTS=(
    "${HEAP_OPTS[@]}"
    -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -XX:+DisableExplicitGC -Djava.awt.headless=true
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --enable-native-access=ALL-UNNAMED
    -Dio.netty.tryReflectionSetAccessible=true
  )
  infra_log "neo4j: starting on bolt://$NEO4J_HOST:$NEO4J_PORT (log: $NEO4J_LOG)"
  # setsid: own session, so the server outlives the calling shell and its Ctrl-C.
  # bash writes its own pid and then execs java, so the pid file names the JVM itself.
  # shellcheck disable=SC2016  # expanded by the inner bash
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$NEO4J_PID_FILE" \
    "$JAVA" "${JVM_OPTS[@]}" -cp "$HERE/lib/*" "$HERE/Neo4jMain.java" "$NEO4J_DATA_DIR" \
    </dev/null >>"$NEO4J_LOG" 2>&1 9>&- &
  for _ in 1 2 3 4 5 6 7 8 9 10; do [[ -s $NEO4J_PID_FILE ]] && break; sleep 0.1; done
  pid=$(cat "$NEO4J_PID_FILE" 2>/dev/null || true)
  launched=1
else
  infra_log "neo4j: our server (pid $pid) is still starting: waiting for it"
  launched=0
fi

# Ready = the process is alive, the port answers a Bolt handshake, and the launcher printed
# "Neo4j ready on" (printed after the default database answered a query).
deadline=$((SECONDS + NEO4J_START_TIMEOUT))
until bolt_handshake_ok "$NEO4J_HOST" "$NEO4J_PORT" && grep -q 'Neo4j ready on' "$NEO4J_LOG" 2>/dev/null; do
  if ! pid_alive "$pid"; then
    tail -n 40 "$NEO4J_LOG" >&2 2>/dev/null || true
    rm -f "$NEO4J_PID_FILE"
    infra_die "neo4j: the server exited during startup; full log: $NEO4J_LOG (and $NEO4J_DATA_DIR/logs/debug.log)"
  fi
  if ((SECONDS >= deadline)); then
    tail -n 40 "$NEO4J_LOG" >&2 2>/dev/null || true
    infra_die "neo4j: not ready after ${NEO4J_START_TIMEOUT}s (pid $pid still running; stop it with infra/neo4j/stop.sh); full log: $NEO4J_LOG"
  fi
  sleep 0.5
done
((launched)) && record_started neo4j
infra_log "neo4j: ready on bolt://$NEO4J_HOST:$NEO4J_PORT (pid $pid, ${SECONDS}s)"
