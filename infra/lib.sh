# shellcheck shell=bash
# Shared shell helpers for infra/*.sh. Source it; do not run it.
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"   (from infra/<server>/)
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"      (from infra/)

# Servers that infra/up.sh and infra/down.sh know, in start order (stopped in reverse).
# Adding one = add its name here and create infra/<name>/start.sh and stop.sh.
# shellcheck disable=SC2034  # read by up.sh and down.sh
INFRA_SERVERS=(kafka elasticmq dynamodb neo4j zipkin)

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
  # One Maven at a time (infra/up.sh starts servers in parallel): two resolvers writing the same
  # artifact into ~/.m2 at once can leave a partial file behind.
  if ! flock "$INFRA_STATE/maven.lock" mvn -B -q -f "$dir/pom.xml" \
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

# java_bin [OVERRIDE]: OVERRIDE (a server's <NAME>_JAVA), else INFRA_JAVA, else $JAVA_HOME/bin/java,
# else java on PATH.
java_bin() {
  local j=${1:-${INFRA_JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/java}}}
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

# --- One server's start.sh / stop.sh -----------------------------------------------------------
# infra/<server>/<server>-env.sh describes its server in these globals, then start.sh and stop.sh
# call the infra_* functions below (one server per process, so plain globals suffice):
#   SRV_NAME         kafka: in messages and for record_started
#   SRV_HOST SRV_PORT    where to probe; SRV_ADDR: how messages show it (bolt://host:port, ...)
#   SRV_STATE_DIR    holds start.lock; SRV_PID_FILE and SRV_LOG (the JVM's stdout and stderr)
#   SRV_START_TIMEOUT SRV_STOP_TIMEOUT   seconds
#   SRV_PROBE        function HOST PORT: succeeds when the server answers its protocol there
#   SRV_READY_LINE   optional: our server is ready only once its log contains this text
#   SRV_MARKS        array: texts on our JVM's command line (finds it without a pid file, and
#                    guards against pid reuse); they must name the state dir or the data dir
#   SRV_SPEAKS       protocol name (Kafka, Bolt, SQS): "taken by a process that does not speak ..."
#   SRV_WHAT         "a Kafka broker": what answers when it is not ours
#   SRV_NOUN         optional: broker (default: server)
#   SRV_MORE_LOGS    optional: another log that a startup failure points to
#   SRV_CLEAN_DIRS   optional array: what stop.sh --clean deletes (default: SRV_STATE_DIR)
#   SRV_CLEAN        optional: 1 = stop.sh behaves as with --clean (from <NAME>_CLEAN)
INFRA_PID='' INFRA_LAUNCHED=0 INFRA_DEADLINE=0   # set by the functions below

# infra_our_pid: pid of our server (started from SRV_STATE_DIR), if it is running.
infra_our_pid() {
  local pid
  pid=$(cat "$SRV_PID_FILE" 2>/dev/null || true)
  if pid_alive "$pid" && pid_cmdline_has "$pid" "${SRV_MARKS[@]}"; then echo "$pid"; return 0; fi
  # The pid file may be gone (e.g. .infra/ wiped by hand): look for our marks.
  pid=$(find_pid_by_cmdline "${SRV_MARKS[@]}") || return 1
  mkdir -p "$SRV_STATE_DIR" && echo "$pid" >"$SRV_PID_FILE"
  echo "$pid"
}

# infra_ready_now: the port answers SRV_PROBE and (if set) SRV_LOG contains SRV_READY_LINE.
infra_ready_now() {
  "$SRV_PROBE" "$SRV_HOST" "$SRV_PORT" || return 1
  [[ -z ${SRV_READY_LINE:-} ]] || grep -q "$SRV_READY_LINE" "$SRV_LOG" 2>/dev/null
}

# infra_running_state: prints a description and succeeds when a ready server answers the port.
infra_running_state() {
  "$SRV_PROBE" "$SRV_HOST" "$SRV_PORT" || return 1
  local pid
  if pid=$(infra_our_pid); then
    # Ours: the protocol may answer before the server is really ready.
    infra_ready_now || return 1
    echo "our ${SRV_NOUN:-server} (pid $pid) is already running"
  else
    echo "$SRV_WHAT not started from $SRV_STATE_DIR is already answering"
  fi
}

# infra_start_guarded: exits 0 when a server already answers (before and after taking
# SRV_STATE_DIR/start.lock, held on fd 9 until the script ends: concurrent starts serialise).
# Then: our JVM still booting -> INFRA_PID is its pid (wait for it, launch nothing); else it dies
# when a foreign process holds the port, and returns with INFRA_PID empty: the caller launches.
infra_start_guarded() {
  local state
  if state=$(infra_running_state); then
    infra_log "$SRV_NAME: $state on $SRV_ADDR: nothing to do"
    exit 0
  fi
  mkdir -p "$SRV_STATE_DIR"
  exec 9>"$SRV_STATE_DIR/start.lock"
  flock -w "$SRV_START_TIMEOUT" 9 || infra_die "$SRV_NAME: another start.sh holds $SRV_STATE_DIR/start.lock"
  if state=$(infra_running_state); then
    infra_log "$SRV_NAME: $state on $SRV_ADDR (started meanwhile): nothing to do"
    exit 0
  fi
  INFRA_PID=$(infra_our_pid || true)
  if [[ -n $INFRA_PID ]]; then
    infra_log "$SRV_NAME: our ${SRV_NOUN:-server} (pid $INFRA_PID) is still starting: waiting for it"
    return 0
  fi
  if port_open "$SRV_HOST" "$SRV_PORT"; then
    infra_die "$SRV_NAME: $SRV_HOST:$SRV_PORT is taken by a process that does not speak $SRV_SPEAKS (set ${SRV_NAME^^}_PORT)"
  fi
}

# infra_launch COMMAND...: runs COMMAND (the java command line) in the background, in its own
# session (it outlives the caller's shell and its Ctrl-C), appending to SRV_LOG after keeping the
# previous run's log as SRV_LOG.1. Sets INFRA_PID (the JVM's: bash writes its own pid, then execs
# COMMAND in its place) and INFRA_LAUNCHED=1.
# COMMAND keeps no descriptor but 0-2: whatever else it inherited it would hold for its whole
# life: start.lock (fd 9), or the lock of a caller's `flock FILE bash infra/up.sh` (util-linux
# flock hands its lock fd to the command), which would then stay held until the server stops.
infra_launch() {
  if [[ -f $SRV_LOG ]]; then mv -f "$SRV_LOG" "$SRV_LOG.1"; fi
  infra_log "$SRV_NAME: starting on $SRV_ADDR (log: $SRV_LOG)"
  # shellcheck disable=SC2016  # expanded by the inner bash
  setsid bash -c 'echo $$ >"$1"; shift
    for fd in /proc/self/fd/*; do fd=${fd##*/}; ((fd > 2)) && exec {fd}>&-; done
    exec "$@"' _ "$SRV_PID_FILE" "$@" </dev/null >>"$SRV_LOG" 2>&1 &
  for _ in 1 2 3 4 5 6 7 8 9 10; do [[ -s $SRV_PID_FILE ]] && break; sleep 0.1; done
  INFRA_PID=$(cat "$SRV_PID_FILE" 2>/dev/null || true)
  INFRA_LAUNCHED=1
}

# infra_wait_ready: waits until infra_ready_now, at most SRV_START_TIMEOUT seconds (the deadline
# is left in INFRA_DEADLINE for any warm-up after). Dies with the log's tail when INFRA_PID exits
# or the time is up.
infra_wait_ready() {
  local more=${SRV_MORE_LOGS:+ (and $SRV_MORE_LOGS)}
  INFRA_DEADLINE=$((SECONDS + SRV_START_TIMEOUT))
  until infra_ready_now; do
    if ! pid_alive "$INFRA_PID"; then
      tail -n 40 "$SRV_LOG" >&2 2>/dev/null || true
      rm -f "$SRV_PID_FILE"
      infra_die "$SRV_NAME: the ${SRV_NOUN:-server} exited during startup; full log: $SRV_LOG$more"
    fi
    if ((SECONDS >= INFRA_DEADLINE)); then
      tail -n 40 "$SRV_LOG" >&2 2>/dev/null || true
      infra_die "$SRV_NAME: not ready after ${SRV_START_TIMEOUT}s (pid $INFRA_PID still running; stop it with infra/$SRV_NAME/stop.sh); full log: $SRV_LOG"
    fi
    sleep 0.3
  done
}

# infra_started: the last step of a start.sh (record_started when this run launched the server).
infra_started() {
  if ((INFRA_LAUNCHED)); then record_started "$SRV_NAME"; fi
  infra_log "$SRV_NAME: ready on $SRV_ADDR (pid $INFRA_PID, ${SECONDS}s)"
}

# infra_stop_main [--clean]: all of a stop.sh. Stops our server (TERM, KILL after
# SRV_STOP_TIMEOUT), never another; idempotent. --clean (or SRV_CLEAN=1) deletes SRV_CLEAN_DIRS.
infra_stop_main() {
  local clean=${SRV_CLEAN:-0} arg pid dirs joined
  for arg in "$@"; do
    case $arg in
      --clean) clean=1 ;;
      *) infra_die "usage: $0 [--clean]" ;;
    esac
  done
  if pid=$(infra_our_pid); then
    stop_pid "$pid" "$SRV_NAME" "$SRV_STOP_TIMEOUT"
    infra_log "$SRV_NAME: stopped"
  else
    infra_log "$SRV_NAME: not running (from $SRV_STATE_DIR): nothing to stop"
  fi
  rm -f "$SRV_PID_FILE"
  if [[ $clean == 1 ]]; then
    dirs=("${SRV_CLEAN_DIRS[@]:-$SRV_STATE_DIR}")
    printf -v joined '%s and ' "${dirs[@]}"
    infra_log "$SRV_NAME: deleting ${joined% and }"
    for arg in "${dirs[@]}"; do safe_rm_rf "$arg"; done
  fi
}
