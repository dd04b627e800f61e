# shellcheck shell=bash
# Shared shell helpers for infra/*.sh. Source it; do not run it.
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"   (from infra/<server>/)
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"      (from infra/)

# Servers that infra/up.sh and infra/down.sh know, in start order (stopped in reverse).
# Adding one = add its name here and create infra/<name>/start.sh and stop.sh.
# shellcheck disable=SC2034  # read by up.sh and down.sh
INFRA_SERVERS=(kafka elasticmq dynamodb neo4j)

INFRA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"   # the repository root
INFRA_STATE="${INFRA_STATE:-$INFRA_ROOT/.infra}"                 # git-ignored runtime state

infra_log() { printf '[infra] %s\n' "$*" >&2; }
infra_die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# wait_for_port HOST PORT SECONDS
wait_for_port() {
  local host=$1 port=$2 deadline=$((SECONDS + $3))
  until port_open "$host" "$port"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# pid_alive PID: the process exists (and is not a zombie).
pid_alive() {
  [[ -n ${1:-} && -d /proc/$1 ]] || return 1
  [[ $(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) != Z ]]
}

# pid_cmdline_has PID TEXT...: the process's command line contains every TEXT (guards pid reuse).
pid_cmdline_has() {
  local pid=$1 cmd; shift
  { cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline"); } 2>/dev/null || return 1
  local t
  for t in "$@"; do [[ $cmd == *"$t"* ]] || return 1; done
}

# find_pid_by_cmdline TEXT...: first live pid whose command line contains every TEXT.
find_pid_by_cmdline() {
  local d pid
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [[ $pid == "$$" ]] && continue
    pid_cmdline_has "$pid" "$@" && pid_alive "$pid" && { echo "$pid"; return 0; }
  done
  return 1
}

# stop_pid PID NAME SECONDS: TERM, wait up to SECONDS, then KILL.
stop_pid() {
  local pid=$1 name=$2 deadline=$((SECONDS + $3))
  pid_alive "$pid" || return 0
  infra_log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if ((SECONDS >= deadline)); then
      infra_log "$name (pid $pid) still running after ${3}s: KILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.3
  done
}

# ensure_classpath DIR: resolve DIR/pom.xml's runtime dependencies into DIR/lib once.
# The marker holds a hash of pom.xml, so editing the pom re-resolves; a complete lib/ skips Maven.
ensure_classpath() {
  local dir=$1 lib=$1/lib marker=$1/lib/.complete hash name tmp mlog
  name=$(basename "$dir")
  tmp="$INFRA_STATE/$name-lib.tmp" mlog="$INFRA_STATE/$name-maven.log"   # git-ignored
  hash=$(sha256sum "$dir/pom.xml" | cut -d' ' -f1)
  if [[ -f $marker && $(cat "$marker") == "$hash" ]]; then return 0; fi
  command -v mvn >/dev/null || infra_die "mvn not found (needed once to resolve $dir/pom.xml)"
  infra_log "resolving classpath for $name with Maven into ${lib#"$INFRA_ROOT"/}"
  rm -rf "$tmp" && mkdir -p "$tmp"
  if ! mvn -B -q -f "$dir/pom.xml" \
      org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mlog" 2>&1; then
    cat "$mlog" >&2
    rm -rf "$tmp"
    infra_die "Maven could not resolve $dir/pom.xml (log above, also in $mlog)"
  fi
  rm -f "$mlog"
  echo "$hash" >"$tmp/.complete"   # written last: lib/ is complete only with it
  rm -rf "$lib" && mv "$tmp" "$lib"
}

# java_bin: INFRA_JAVA, else $JAVA_HOME/bin/java, else java on PATH.
java_bin() {
  local j=${INFRA_JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/java}}
  j=${j:-$(command -v java || true)}
  [[ -n $j && -x $j ]] || infra_die "java not found (set JAVA_HOME or INFRA_JAVA)"
  echo "$j"
}

# safe_rm_rf DIR: refuse anything outside the repository or the state folder's own tree.
safe_rm_rf() {
  local d
  d=$(realpath -m "$1")
  [[ -n $d && $d != / && $d != "$INFRA_ROOT" && ( $d == "$INFRA_ROOT"/* || $d == "$INFRA_STATE"/* || -n ${INFRA_ALLOW_RM:-} ) ]] \
    || infra_die "refusing to delete $d (outside $INFRA_ROOT; set INFRA_ALLOW_RM=1 to allow)"
  rm -rf -- "$d"
}

# record_started NAME: called by a start.sh after it launched a process itself. infra/up.sh sets
# INFRA_STARTED_FILE so that infra/down.sh --only-started stops only what up.sh started.
record_started() {
  [[ -n ${INFRA_STARTED_FILE:-} ]] || return 0
  mkdir -p "$(dirname "$INFRA_STARTED_FILE")"
  grep -qx "$1" "$INFRA_STARTED_FILE" 2>/dev/null || echo "$1" >>"$INFRA_STARTED_FILE"
}
