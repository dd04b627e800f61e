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

infra_start_guarded   # exits 0 when a Bolt server answers; INFRA_PID set = ours is still booting
if [[ -z $INFRA_PID ]]; then
  ensure_classpath "$HERE"
  JAVA=$(java_bin "${NEO4J_JAVA:-}")
  mkdir -p "$NEO4J_DATA_DIR"

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
  infra_launch "$JAVA" "${JVM_OPTS[@]}" -cp "$HERE/lib/*" "$HERE/Neo4jMain.java" "$NEO4J_DATA_DIR"
fi
infra_wait_ready
infra_started
