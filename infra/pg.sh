#!/usr/bin/env bash
# Runs naryad's private PostgreSQL cluster under .local/pg (port NARYAD_PG_PORT, default 54329),
# started from the system's PostgreSQL binaries. The Makefile calls it only when
# NARYAD_DATABASE_URL does not name another server.
# Idempotent: an initialised, running cluster is left as it is.
# Usage: infra/pg.sh [start|stop|status]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
action="${1:-start}"
port="${NARYAD_PG_PORT:-54329}"
pgdir="$root/.local/pg"

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
    echo "naryad: PostgreSQL server binaries not found; run infra/system-deps.sh as root or: sudo apt-get install postgresql postgresql-15-postgis-3" >&2
    exit 1
fi

# initdb and postgres refuse to run as root: run them as the postgres user, with the data in a
# directory that user owns. If the checkout is not reachable by postgres (e.g. under /root), the
# data lives in /var/tmp and .local/pg links to it.
as_owner=()
if [[ "$(id -u)" -eq 0 ]]; then
    as_owner=(runuser -u postgres --)
fi

mkdir -p "$root/.local"
if [[ ! -e "$pgdir" ]]; then
    if [[ "$(id -u)" -eq 0 ]] && ! runuser -u postgres -- test -x "$root/.local"; then
        target="/var/tmp/naryad-pg-$(echo -n "$root" | sha256sum | cut -c1-12)"
        mkdir -p "$target"
        ln -s "$target" "$pgdir"
    else
        mkdir -p "$pgdir"
    fi
fi
if [[ "$(id -u)" -eq 0 ]]; then
    chown postgres:postgres "$(readlink -f "$pgdir")"
fi
data="$pgdir/data"
log="$pgdir/postgres.log"

pg() { "${as_owner[@]}" "$bindir/$1" "${@:2}"; }

case "$action" in
    stop)
        if [[ -f "$data/postmaster.pid" ]]; then pg pg_ctl -D "$data" -m fast stop; fi
        exit 0 ;;
    status)
        pg pg_ctl -D "$data" status ;;
    start) ;;
    *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac

if [[ ! -f "$data/PG_VERSION" ]]; then
    pwfile="$(mktemp)"
    echo "naryad" > "$pwfile"
    chmod 644 "$pwfile"
    pg initdb -D "$data" -U naryad --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 256MB
CONF
fi

if ! pg pg_ctl -D "$data" status >/dev/null 2>&1; then
    pg pg_ctl -D "$data" -l "$log" -w -t 60 start >/dev/null
fi

psql_private() { "${as_owner[@]}" psql -h "$data" -p "$port" -U naryad -v ON_ERROR_STOP=1 -qtA "$@"; }
for db in naryad; do
    if [[ -z "$(psql_private -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]]; then
        psql_private -d postgres -c "CREATE DATABASE $db" >/dev/null
    fi
done
