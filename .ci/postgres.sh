#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the backend tests.
#
#   eval "$(.ci/postgres.sh start)"   # prints `export ML_TEST_POSTGRES_URL=... ML_TEST_PGDIR=...`
#   .ci/postgres.sh status            # pg_isready against it
#   .ci/postgres.sh stop              # pg_ctl stop -m fast, then removes the directory
#
# `start` prints only the export lines on stdout (progress goes to stderr), so it can be
# eval'ed. The cluster lives in a fresh directory under ${TMPDIR:-/tmp}, trusts local TCP
# connections on 127.0.0.1 only, listens on a free port, runs in UTC with UTF8 encoding and
# C collation, and trades durability for speed (fsync, synchronous_commit and
# full_page_writes off). PostgreSQL refuses to run as root: as root the server runs as the
# system user `postgres` (or `mltest`, created when neither exists); otherwise as you.
#
# Environment:
#   ML_PG_BINDIR   directory with initdb/pg_ctl/postgres (default: PATH, then
#                  /usr/lib/postgresql/<newest>/bin)
#   ML_PG_DB       database to create (default metrics_test)
#   ML_PG_PORT     port to listen on (default: a free one)
#   ML_TEST_PGDIR  (stop/status) the directory that `start` printed; without it, the last
#                  one started from this checkout (recorded in .ci/pgdata/current)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="$HERE/pgdata"          # git-ignored; holds only a pointer to the temp dir
STATE_FILE="$STATE_DIR/current"
DB="${ML_PG_DB:-metrics_test}"

log() { printf '[postgres.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- locate the server binaries ------------------------------------------------------
find_bindir() {
    if [[ -n "${ML_PG_BINDIR:-}" ]]; then
        [[ -x "$ML_PG_BINDIR/initdb" && -x "$ML_PG_BINDIR/pg_ctl" ]] \
            || die "ML_PG_BINDIR=$ML_PG_BINDIR has no initdb/pg_ctl"
        echo "$ML_PG_BINDIR"; return 0
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        # resolve symlinks (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb) so
        # that pg_isready/psql of the same installation are found beside it
        dirname "$(readlink -f "$(command -v initdb)")"; return 0
    fi
    local d
    # Debian packages: /usr/lib/postgresql/<major>/bin, newest first
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -rn); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
            echo "$d"; return 0
        fi
    done
    return 1
}

# a client tool: from the server's bindir if it is there, else from PATH
tool() {
    if [[ -x "$BINDIR/$1" ]]; then echo "$BINDIR/$1"
    elif command -v "$1" >/dev/null 2>&1; then command -v "$1"
    else die "$1 not found (in $BINDIR or on PATH)"
    fi
}

# --- who runs the server ---------------------------------------------------------------
BINDIR=""
PG_USER=""
as_pg() {  # run a command as the server's user
    if [[ -z "$PG_USER" ]]; then "$@"
    elif command -v runuser >/dev/null 2>&1; then runuser -u "$PG_USER" -- "$@"
    else su -s /bin/sh "$PG_USER" -c "$(printf '%q ' "$@")"
    fi
}

pick_user() {
    if [[ "$(id -u)" != 0 ]]; then PG_USER=""; return; fi
    if id -u postgres >/dev/null 2>&1; then PG_USER=postgres
    else
        if ! id -u mltest >/dev/null 2>&1; then
            log "creating system user mltest"
            useradd --system --no-create-home --shell /usr/sbin/nologin mltest 2>/dev/null \
                || adduser --system --no-create-home --group mltest >/dev/null
        fi
        PG_USER=mltest
    fi
}

free_port() {
    local py
    py="$(command -v python3 || command -v python)" || die "python3 is needed to pick a port"
    "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- subcommands ---------------------------------------------------------------------------
cmd_start() {
    BINDIR="$(find_bindir)" || die "PostgreSQL server binaries not found (apt-get install postgresql)"
    local bindir="$BINDIR" pg_isready psql
    pg_isready="$(tool pg_isready)"; psql="$(tool psql)"
    pick_user
    # /tmp rather than $TMPDIR: the server's user must be able to reach the directory
    local base="${ML_PG_TMP:-/tmp}"
    local dir
    dir="$(mktemp -d "$base/ml-pg.XXXXXX")"
    chmod 700 "$dir"
    [[ -n "$PG_USER" ]] && chown "$PG_USER" "$dir"
    local data="$dir/data" logf="$dir/server.log"

    log "initdb ($bindir, user ${PG_USER:-$(id -un)}) in $dir"
    if ! TZ=UTC as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
            --no-locale --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        die "initdb failed"
    fi
    cat >>"$data/postgresql.conf" <<EOF

# --- metrics_layer test cluster ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
timezone = 'UTC'
log_timezone = 'UTC'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 128MB
work_mem = 32MB
max_wal_size = 1GB
jit = off
EOF

    local port="" tries
    for tries in 1 2 3 4 5; do
        port="${ML_PG_PORT:-$(free_port)}"
        if TZ=UTC as_pg "$bindir/pg_ctl" -D "$data" -l "$logf" -o "-p $port" -w -t 60 start \
                >/dev/null 2>&1; then
            break
        fi
        log "start on port $port failed (attempt $tries)"
        tail -n 20 "$logf" >&2 || true
        port=""
        [[ -n "${ML_PG_PORT:-}" ]] && break
    done
    if [[ -z "$port" ]]; then rm -rf "$dir"; die "could not start PostgreSQL"; fi

    local i
    for i in $(seq 1 60); do
        if "$pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then break; fi
        sleep 0.5
    done
    "$pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres \
        || { tail -n 50 "$logf" >&2; die "server not ready"; }
    "$psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "CREATE DATABASE \"$DB\" ENCODING 'UTF8' TEMPLATE template0" >&2 \
        || die "CREATE DATABASE $DB failed"

    mkdir -p "$STATE_DIR" 2>/dev/null && printf '%s\n' "$dir" >"$STATE_FILE" 2>/dev/null || true
    printf '%s\n%s\n' "$bindir" "$port" >"$dir/meta"
    log "ready on 127.0.0.1:$port (database $DB, dir $dir)"
    echo "export ML_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/$DB"
    echo "export ML_TEST_PGDIR=$dir"
}

resolve_dir() {
    local dir="${1:-${ML_TEST_PGDIR:-}}"
    if [[ -z "$dir" && -f "$STATE_FILE" ]]; then dir="$(cat "$STATE_FILE")"; fi
    echo "$dir"
}

cmd_stop() {
    local dir; dir="$(resolve_dir "${1:-}")"
    if [[ -z "$dir" || ! -d "$dir" ]]; then log "nothing to stop"; return 0; fi
    case "$dir" in */ml-pg.*) ;; *) die "refusing to remove $dir (not an ml-pg.* directory)";; esac
    local bindir
    bindir="$(sed -n 1p "$dir/meta" 2>/dev/null || true)"
    [[ -n "$bindir" ]] || bindir="$(find_bindir || true)"
    pick_user
    if [[ -f "$dir/data/postmaster.pid" && -n "$bindir" ]]; then
        as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
            || as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 \
            || log "pg_ctl stop failed"
    fi
    rm -rf "$dir"
    if [[ -f "$STATE_FILE" && "$(cat "$STATE_FILE" 2>/dev/null)" == "$dir" ]]; then rm -f "$STATE_FILE"; fi
    log "stopped and removed $dir"
}

cmd_status() {
    local dir; dir="$(resolve_dir "${1:-}")"
    [[ -n "$dir" && -f "$dir/meta" ]] || { log "no cluster recorded"; return 1; }
    local port
    BINDIR="$(sed -n 1p "$dir/meta")"; port="$(sed -n 2p "$dir/meta")"
    "$(tool pg_isready)" -h 127.0.0.1 -p "$port" -U postgres
}

case "${1:-}" in
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    status) shift; cmd_status "$@" ;;
    bindir) find_bindir || die "no PostgreSQL server binaries" ;;
    *) echo "usage: $0 start|stop [dir]|status [dir]|bindir" >&2; exit 2 ;;
esac
