#!/usr/bin/env bash
# Make sure the machine's own PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer.
# They are normally running already (started with the machine); this only starts what does not
# answer, installing the Debian package first if its binaries are missing. It never stops them.
# Needs root (or sudo) only when something has to be installed or started.
set -euo pipefail
# shellcheck source=infra/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

WAIT=${LOCAL_SERVICES_TIMEOUT:-60}
as_root() { if ((EUID == 0)); then "$@"; else sudo "$@"; fi; }
apt_updated=0
ensure_package() {   # ensure_package BINARY PACKAGE
  command -v "$1" >/dev/null && return 0
  infra_log "$1 not found: installing Debian package $2"
  ((apt_updated)) || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
}

if port_open 127.0.0.1 5432; then
  infra_log "postgres: answering on 127.0.0.1:5432"
else
  ensure_package pg_ctlcluster postgresql
  version=$(find /etc/postgresql -mindepth 1 -maxdepth 1 -printf "%f\n" 2>/dev/null | sort -V | tail -n 1)
  [[ -n $version ]] || infra_die "postgres: no cluster under /etc/postgresql"
  infra_log "postgres: starting cluster $version/main"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for_port 127.0.0.1 5432 "$WAIT" || infra_die "postgres: not answering after ${WAIT}s (see /var/log/postgresql/)"
  infra_log "postgres: answering on 127.0.0.1:5432"
fi

if port_open 127.0.0.1 6379; then
  infra_log "redis: answering on 127.0.0.1:6379"
else
  ensure_package redis-server redis-server
  infra_log "redis: starting redis-server"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for_port 127.0.0.1 6379 "$WAIT" || infra_die "redis: not answering after ${WAIT}s (see /var/log/redis/ci.log)"
  infra_log "redis: answering on 127.0.0.1:6379"
fi
