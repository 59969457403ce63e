#!/usr/bin/env bash
# Installs the Debian packages naryad needs on this machine, only when missing.
# Usage: infra/system-deps.sh [run|cluster|test|bench]
#   run     PostgreSQL with PostGIS (when NARYAD_PRIVATE_PG=1, i.e. no external database), fonts
#   cluster run + HAProxy and PgBouncer for `make cluster`
#   test    cluster (the fault test brings the topology up) + Chromium for the browser tests
#   bench   test + Pango for the WeasyPrint comparison, wrk as the load generator
set -euo pipefail

profile="${1:-run}"
packages=()

need() { # need PACKAGE TEST-COMMAND...
    local pkg="$1"; shift
    if ! "$@" >/dev/null 2>&1; then packages+=("$pkg"); fi
}

pg_version() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)"
    [[ -n "$dir" ]] && basename "$(dirname "$(dirname "$dir")")"
}

if [[ "${NARYAD_PRIVATE_PG:-1}" == 1 ]]; then
    version="$(pg_version || true)"
    if [[ -z "$version" ]]; then
        packages+=(postgresql)
        version=15
    fi
    need "postgresql-${version}-postgis-3" test -f "/usr/share/postgresql/${version}/extension/postgis.control"
fi
need fonts-dejavu-core test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
need fonts-dejavu-core test -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf

if [[ "$profile" == cluster || "$profile" == test || "$profile" == bench ]]; then
    # The Debian packages ship services; only infra/cluster.sh starts them, as its own processes.
    need haproxy sh -c 'command -v haproxy'
    need pgbouncer sh -c 'command -v pgbouncer'
fi
if [[ "$profile" == test || "$profile" == bench ]]; then
    need chromium test -x /usr/bin/chromium
    # promtool checks the /metrics format (about 19 MB); the package's server is never started.
    need prometheus test -x /usr/bin/promtool
fi
if [[ "$profile" == bench ]]; then
    need libpango-1.0-0 sh -c 'ldconfig -p | grep -q libpango-1.0.so.0'
    need libpangoft2-1.0-0 sh -c 'ldconfig -p | grep -q libpangoft2-1.0.so.0'
    need wrk sh -c 'command -v wrk'
fi

if [[ ${#packages[@]} -eq 0 ]]; then
    exit 0
fi
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
if [[ "$(id -u)" -ne 0 ]]; then
    echo "naryad: missing system packages; install them with: sudo apt-get install ${packages[*]}" >&2
    exit 1
fi
echo "naryad: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packages that ship a daemon (prometheus, haproxy, pgbouncer) must not start it: deny service starts while
# installing, unless the machine already has its own policy.
policy=/usr/sbin/policy-rc.d
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
