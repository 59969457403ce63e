#!/usr/bin/env bash
# Runs the S3 emulator (moto's S3 server) on 127.0.0.1 for the tests.
# Usage: infra/s3.sh [start|stop]; port NARYAD_S3_EMULATOR_PORT (default 59000).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
port="${NARYAD_S3_EMULATOR_PORT:-59000}"
pidfile="$root/.local/moto.pid"
mkdir -p "$root/.local"

running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "${1:-start}" in
    stop)
        if running; then kill "$(cat "$pidfile")"; fi
        rm -f "$pidfile"
        exit 0 ;;
    start) ;;
    *) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac

if running; then exit 0; fi
nohup "$root/.venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$root/.local/moto.log" 2>&1 &
echo $! >"$pidfile"
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then exit 0; fi
    sleep 0.1
done
echo "naryad: the S3 emulator did not start on 127.0.0.1:$port; see .local/moto.log" >&2
exit 1
