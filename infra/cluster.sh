#!/usr/bin/env bash
# The multi-process topology on this machine: HAProxy in front of N API processes, M workers,
# PgBouncer (transaction mode) in front of PostgreSQL, a hot standby of PostgreSQL for the
# coordinators' lag-tolerant figures, and the S3 emulator.
# Config files are generated from infra/cluster/*.in into the cluster directory.
#
# Usage: infra/cluster.sh [start|stop|status]
#   start   start whatever is not running (so after a crash, `start` again restarts only the
#           dead processes); waits until HAProxy answers /ready
#   stop    stop everything this script started in the cluster directory
#   status  one line per process: name, pid, running or not
# Environment (all optional):
#   NARYAD_CLUSTER_DIR            configs, pids, logs           (.local/cluster)
#   NARYAD_CLUSTER_PORT           HAProxy's port                (8080)
#   NARYAD_CLUSTER_API            API processes                 (2)
#   NARYAD_CLUSTER_API_PORT       first API process's port      (8081; the next ones follow)
#   NARYAD_CLUSTER_WORKERS        worker processes              (2)
#   NARYAD_CLUSTER_PGBOUNCER_PORT PgBouncer's port              (6432)
#   NARYAD_CLUSTER_PGBOUNCER_POOL PgBouncer default_pool_size   (20)
#   NARYAD_CLUSTER_BALANCE        HAProxy balance algorithm     (leastconn)
#   NARYAD_CLUSTER_STANDBY        1: a streaming-replication standby of the primary (infra/pg.sh
#                                 standby-start, data in the cluster directory), which the API
#                                 processes read KPIs and board counts from; 0: none   (1)
#   NARYAD_CLUSTER_STANDBY_PORT   the standby's port            (54339)
#   NARYAD_READ_DATABASE_URL      a read replica of your own instead (no standby is started)
#   NARYAD_DATABASE_URL           the PostgreSQL behind PgBouncer (the private cluster)
#   NARYAD_S3_ENDPOINT_URL        an S3 server; unset: the emulator of infra/s3.sh
#   NARYAD_CLUSTER_PYTHON         the interpreter with naryad installed (.venv/bin/python)
# Any other NARYAD_* variable passes on to the API processes and the workers.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
action="${1:-start}"
dir="${NARYAD_CLUSTER_DIR:-$root/.local/cluster}"
proxy_port="${NARYAD_CLUSTER_PORT:-8080}"
api_count="${NARYAD_CLUSTER_API:-2}"
api_port="${NARYAD_CLUSTER_API_PORT:-8081}"
worker_count="${NARYAD_CLUSTER_WORKERS:-2}"
pgb_port="${NARYAD_CLUSTER_PGBOUNCER_PORT:-6432}"
pgb_pool="${NARYAD_CLUSTER_PGBOUNCER_POOL:-20}"
balance="${NARYAD_CLUSTER_BALANCE:-leastconn}"
standby="${NARYAD_CLUSTER_STANDBY:-1}"
standby_port="${NARYAD_CLUSTER_STANDBY_PORT:-54339}"
python="${NARYAD_CLUSTER_PYTHON:-$root/.venv/bin/python}"
database_url="${NARYAD_DATABASE_URL:-postgresql+asyncpg://naryad:naryad@127.0.0.1:54329/naryad}"
run="$dir/run"
logs="$dir/log"

running_pid() { # running_pid PID: alive and not a zombie waiting to be reaped
    local state
    state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z* ]]
}
alive() { [[ -f "$run/$1.pid" ]] && running_pid "$(cat "$run/$1.pid")"; }

api_names() { for i in $(seq 1 "$api_count"); do echo "api$i"; done; }
worker_names() { for i in $(seq 1 "$worker_count"); do echo "worker$i"; done; }

# PgBouncer refuses to run as root: as root it runs as the postgres user, with its files in a
# directory that user owns (.local may not be reachable by it).
pgb_dir="$dir/pgbouncer"
as_owner=()
if [[ "$(id -u)" -eq 0 ]]; then
    as_owner=(runuser -u postgres --)
    pgb_dir="/var/tmp/naryad-pgbouncer-$(echo -n "$dir" | sha256sum | cut -c1-12)"
fi

pgb_pid() { cat "$pgb_dir/pgbouncer.pid" 2>/dev/null || true; }
pgb_alive() { local pid; pid="$(pgb_pid)"; [[ -n "$pid" ]] && running_pid "$pid"; }

stop_pid() { # stop_pid NAME PID: TERM, then KILL after 10 s
    local name="$1" pid="$2"
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        running_pid "$pid" || return 0
        sleep 0.1
    done
    echo "naryad: $name ($pid) did not stop on TERM; killing it" >&2
    kill -9 "$pid" 2>/dev/null || true
}

case "$action" in
    stop)
        # Every process with a pid file, whatever sizes it was started with; the proxy first.
        for file in "$run"/haproxy.pid "$run"/api*.pid "$run"/worker*.pid; do
            [[ -f "$file" ]] || continue
            name="$(basename "$file" .pid)"
            if alive "$name"; then stop_pid "$name" "$(cat "$file")"; fi
            rm -f "$file"
        done
        if pgb_alive; then stop_pid pgbouncer "$(pgb_pid)"; fi
        if [[ -e "$dir/standby" ]]; then
            NARYAD_PG_STANDBY_DIR="$dir/standby" bash "$root/infra/pg.sh" standby-stop
        fi
        # As root PgBouncer's files live in /var/tmp: keep its log with the others, drop the rest
        # (start writes them again).
        if [[ "$(id -u)" -eq 0 && -d "$pgb_dir" ]]; then
            if [[ -f "$pgb_dir/pgbouncer.log" && -d "$logs" ]]; then
                cat "$pgb_dir/pgbouncer.log" >>"$logs/pgbouncer.log"
            fi
            rm -rf "$pgb_dir" "$dir/pgbouncer"
        fi
        exit 0 ;;
    status)
        for name in haproxy $(api_names) $(worker_names); do
            if alive "$name"; then echo "$name $(cat "$run/$name.pid") running"; else echo "$name - stopped"; fi
        done
        if pgb_alive; then echo "pgbouncer $(pgb_pid) running"; else echo "pgbouncer - stopped"; fi
        if [[ -e "$dir/standby" ]] && NARYAD_PG_STANDBY_DIR="$dir/standby" \
                bash "$root/infra/pg.sh" standby-status >/dev/null 2>&1; then
            echo "standby :$standby_port running"
        else
            echo "standby - stopped"
        fi
        exit 0 ;;
    start) ;;
    *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac

for tool in haproxy pgbouncer; do
    if ! command -v "$tool" >/dev/null; then
        echo "naryad: $tool is missing; run infra/system-deps.sh cluster as root or: sudo apt-get install haproxy pgbouncer" >&2
        exit 1
    fi
done
mkdir -p "$run" "$logs" "$pgb_dir"

# The database URL's parts (user, password, host, port, name) for PgBouncer and the apps.
read -r pg_user pg_password pg_host pg_port pg_db < <("$python" - "$database_url" <<'PY'
import sys
from sqlalchemy.engine import make_url
u = make_url(sys.argv[1])
print(u.username or "naryad", u.password or "", u.host or "127.0.0.1", u.port or 5432, u.database)
PY
)
bouncer_url="postgresql+asyncpg://$pg_user:$pg_password@127.0.0.1:$pgb_port/$pg_db"

render() { # render TEMPLATE OUTPUT: ${NAME} replaced from the environment
    "$python" - "$1" "$2" <<'PY'
import os, string, sys
text = string.Template(open(sys.argv[1]).read()).substitute(os.environ)
with open(sys.argv[2], "w") as out:
    out.write(text)
PY
}

# --- PgBouncer ---------------------------------------------------------------------------
if ! pgb_alive; then
    servers=""
    export PG_HOST="$pg_host" PG_PORT="$pg_port" PG_USER="$pg_user" PGB_DIR="$pgb_dir" \
        PGBOUNCER_PORT="$pgb_port" PGB_POOL_SIZE="$pgb_pool" PGB_MAX_DB=$((pgb_pool + 5))
    render "$root/infra/cluster/pgbouncer.ini.in" "$pgb_dir/pgbouncer.ini"
    printf '"%s" "%s"\n' "$pg_user" "$pg_password" >"$pgb_dir/userlist.txt"
    chmod 600 "$pgb_dir/userlist.txt"
    if [[ "$(id -u)" -eq 0 ]]; then chown -R postgres "$pgb_dir"; fi
    "${as_owner[@]}" pgbouncer -d "$pgb_dir/pgbouncer.ini"
    ln -sfn "$pgb_dir" "$dir/pgbouncer" 2>/dev/null || true
fi
for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$pgb_port") 2>/dev/null; then break; fi
    sleep 0.1
done

# --- Read replica --------------------------------------------------------------------------
# A hot standby of the primary for the coordinators' lag-tolerant figures (KPIs, board counts),
# reached directly (not through PgBouncer: each API process keeps a pool of 2 to it).
if [[ -z "${NARYAD_READ_DATABASE_URL:-}" && "$standby" == 1 ]]; then
    NARYAD_PG_STANDBY_DIR="$dir/standby" NARYAD_PG_STANDBY_PORT="$standby_port" \
        NARYAD_PG_PRIMARY_HOST="$pg_host" NARYAD_PG_PRIMARY_PORT="$pg_port" \
        NARYAD_PG_PRIMARY_USER="$pg_user" NARYAD_PG_PRIMARY_PASSWORD="$pg_password" \
        bash "$root/infra/pg.sh" standby-start
    export NARYAD_READ_DATABASE_URL="postgresql+asyncpg://$pg_user:$pg_password@127.0.0.1:$standby_port/$pg_db"
fi

# --- S3 ------------------------------------------------------------------------------------
if [[ -z "${NARYAD_S3_ENDPOINT_URL:-}" ]]; then
    bash "$root/infra/s3.sh" start
    export NARYAD_S3_ENDPOINT_URL="http://127.0.0.1:${NARYAD_S3_EMULATOR_PORT:-59000}"
    export NARYAD_S3_ACCESS_KEY_ID="${NARYAD_S3_ACCESS_KEY_ID:-emulator}"
    export NARYAD_S3_SECRET_ACCESS_KEY="${NARYAD_S3_SECRET_ACCESS_KEY:-emulator}"
    export NARYAD_S3_CREATE_BUCKET="${NARYAD_S3_CREATE_BUCKET:-1}"
fi

# --- API processes and workers -------------------------------------------------------------
# Every process reaches PostgreSQL through PgBouncer and keeps photos and acts in S3, so any
# process can answer any request; the API trusts X-Forwarded-* only from HAProxy (127.0.0.1).
export NARYAD_DATABASE_URL="$bouncer_url"
export NARYAD_DB_PGBOUNCER=1
export NARYAD_STORAGE=s3
export NARYAD_TRUSTED_PROXIES="${NARYAD_TRUSTED_PROXIES:-127.0.0.1}"
export NARYAD_PUBLIC_BASE_URL="${NARYAD_PUBLIC_BASE_URL:-http://127.0.0.1:$proxy_port}"
export NARYAD_DB_POOL_SIZE="${NARYAD_DB_POOL_SIZE:-10}"
export NARYAD_DB_MAX_OVERFLOW="${NARYAD_DB_MAX_OVERFLOW:-0}"
# Each process counts its own metrics (scraped per process, not through the proxy).
unset PROMETHEUS_MULTIPROC_DIR FORWARDED_ALLOW_IPS

launch() { # launch NAME COMMAND...: in its own session, output to its log, pid to its file
    local name="$1"; shift
    setsid "$@" >>"$logs/$name.log" 2>&1 </dev/null &
    echo $! >"$run/$name.pid"
}

servers=""
i=0
for name in $(api_names); do
    port=$((api_port + i))
    i=$((i + 1))
    servers+="    server $name 127.0.0.1:$port"$'\n'
    if ! alive "$name"; then
        launch "$name" "$python" -m service.cli serve --host 127.0.0.1 --port "$port"
    fi
done
for name in $(worker_names); do
    if ! alive "$name"; then launch "$name" "$python" -m service.cli worker; fi
done

i=0
for name in $(api_names); do
    port=$((api_port + i))
    i=$((i + 1))
    for _ in $(seq 1 300); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null; then break; fi
        if ! alive "$name"; then
            echo "naryad: $name exited; see $logs/$name.log" >&2
            tail -20 "$logs/$name.log" >&2
            exit 1
        fi
        sleep 0.1
    done
done

# --- HAProxy -------------------------------------------------------------------------------
export RUN="$run" PROXY_PORT="$proxy_port" BALANCE="$balance" SERVERS="$servers"
render "$root/infra/cluster/haproxy.cfg.in" "$dir/haproxy.cfg"
if ! alive haproxy; then
    haproxy -c -q -f "$dir/haproxy.cfg"
    launch haproxy haproxy -db -f "$dir/haproxy.cfg"
fi
for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$proxy_port/ready" 2>/dev/null; then
        replica="${NARYAD_READ_DATABASE_URL:+, figures read from the replica at ${NARYAD_READ_DATABASE_URL##*@}}"
        echo "naryad cluster: http://127.0.0.1:$proxy_port (HAProxy) -> $api_count API process(es), $worker_count worker(s), PgBouncer :$pgb_port -> PostgreSQL $pg_host:$pg_port$replica"
        exit 0
    fi
    sleep 0.1
done
echo "naryad: HAProxy on :$proxy_port does not answer /ready; see $logs/" >&2
exit 1
