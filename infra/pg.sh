#!/usr/bin/env bash
# Runs naryad's private PostgreSQL cluster under .local/pg (port NARYAD_PG_PORT, default 54329),
# started from the system's PostgreSQL binaries, and optionally a hot standby of a primary.
# The Makefile calls it only when NARYAD_DATABASE_URL does not name another server;
# infra/cluster.sh starts the standby for `make cluster`.
# Idempotent: an initialised, running cluster is left as it is.
# Usage: infra/pg.sh [start|stop|status|standby-start|standby-stop|standby-status]
#   NARYAD_PG_DIR                  the private cluster's directory       (.local/pg)
#   NARYAD_PG_PORT                 its port                              (54329)
# standby-*: a streaming-replication hot standby (pg_basebackup -R), read-only, whose data
# follows the primary's within a second or so:
#   NARYAD_PG_STANDBY_DIR          its directory                         (.local/pg-standby)
#   NARYAD_PG_STANDBY_PORT         its port                              (54339)
#   NARYAD_PG_PRIMARY_HOST/_PORT/_USER/_PASSWORD  the primary it copies and follows
#                                  (127.0.0.1, NARYAD_PG_PORT, naryad, naryad); the user needs
#                                  the REPLICATION attribute and a `replication` line in the
#                                  primary's pg_hba.conf (initdb writes one for 127.0.0.1)
# A standby that was stopped for long may find the WAL it needs gone from the primary (its log
# says "requested WAL segment ... has already been removed"): stop it, delete its directory and
# start it again (a fresh copy). Until then naryad reads the primary (its lag only grows).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
action="${1:-start}"
port="${NARYAD_PG_PORT:-54329}"
pgdir="${NARYAD_PG_DIR:-$root/.local/pg}"

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
    echo "naryad: PostgreSQL server binaries not found; run infra/system-deps.sh as root or: sudo apt-get install postgresql postgresql-15-postgis-3" >&2
    exit 1
fi

# initdb and postgres refuse to run as root: run them as the postgres user, with the data in a
# directory that user owns. If the directory is not reachable by postgres (e.g. under /root),
# the data lives in /var/tmp and the directory is a link to it.
as_owner=()
if [[ "$(id -u)" -eq 0 ]]; then
    as_owner=(runuser -u postgres --)
fi

postgres_dir() { # postgres_dir DIR: DIR exists, owned by the server's user (maybe a link);
    # the server is then given the resolved path, which it can reach.
    local dir="$1" target
    mkdir -p "$(dirname "$dir")"
    if [[ ! -e "$dir" ]]; then
        if [[ "$(id -u)" -eq 0 ]] && ! runuser -u postgres -- test -x "$(dirname "$dir")"; then
            target="/var/tmp/naryad-pg-$(echo -n "$dir" | sha256sum | cut -c1-12)"
            mkdir -p "$target"
            ln -s "$target" "$dir"
        else
            mkdir -p "$dir"
        fi
    fi
    if [[ "$(id -u)" -eq 0 ]]; then
        chown postgres:postgres "$(readlink -f "$dir")"
    fi
}

pg() { "${as_owner[@]}" "$bindir/$1" "${@:2}"; }

case "$action" in
    standby-start|standby-stop|standby-status)
        sdir="${NARYAD_PG_STANDBY_DIR:-$root/.local/pg-standby}"
        sport="${NARYAD_PG_STANDBY_PORT:-54339}"
        if [[ -e "$sdir" ]]; then sdir="$(readlink -f "$sdir")"; fi
        sdata="$sdir/data"
        case "$action" in
            standby-stop)
                if [[ -f "$sdata/postmaster.pid" ]]; then pg pg_ctl -D "$sdata" -m fast stop >/dev/null; fi
                exit 0 ;;
            standby-status)
                pg pg_ctl -D "$sdata" status
                exit $? ;;
        esac
        postgres_dir "$sdir"
        sdir="$(readlink -f "$sdir")"
        sdata="$sdir/data"
        if [[ ! -f "$sdata/PG_VERSION" ]]; then
            rm -rf "$sdata" # a copy that did not finish
            # -R: standby.signal and primary_conninfo; -X stream: the WAL written meanwhile.
            "${as_owner[@]}" env PGPASSWORD="${NARYAD_PG_PRIMARY_PASSWORD:-naryad}" \
                "$bindir/pg_basebackup" -h "${NARYAD_PG_PRIMARY_HOST:-127.0.0.1}" \
                -p "${NARYAD_PG_PRIMARY_PORT:-$port}" -U "${NARYAD_PG_PRIMARY_USER:-naryad}" \
                -D "$sdata" -R -X stream -c fast --no-password
            # The primary's settings came along; these come last and win. Feedback keeps the
            # primary's vacuum from removing rows a long KPI read still needs on the standby
            # (the read would be cancelled otherwise).
            "${as_owner[@]}" tee -a "$sdata/postgresql.conf" >/dev/null <<CONF
port = $sport
unix_socket_directories = '$sdata'
shared_buffers = 128MB
hot_standby = on
hot_standby_feedback = on
CONF
        fi
        if ! pg pg_ctl -D "$sdata" status >/dev/null 2>&1; then
            pg pg_ctl -D "$sdata" -l "$sdir/postgres.log" -w -t 60 start >/dev/null
        fi
        exit 0 ;;
esac

postgres_dir "$pgdir"
pgdir="$(readlink -f "$pgdir")"
data="$pgdir/data"
log="$pgdir/postgres.log"

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
