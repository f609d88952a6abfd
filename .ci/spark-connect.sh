#!/usr/bin/env bash
# Throwaway Spark Connect server for the backend tests, from the installed pyspark package.
#
#   eval "$(.ci/spark-connect.sh start)"   # prints `export ML_TEST_SPARK_CONNECT_URL=sc://... ML_TEST_SCDIR=...`
#   .ci/spark-connect.sh status            # is the server process alive and its port open
#   .ci/spark-connect.sh stop              # stops the server, then removes the directory
#
# `start` prints only the export lines on stdout (progress goes to stderr), so it can be
# eval'ed. The server listens on 127.0.0.1 only, on a free port, runs local[2] in UTC with the
# in-memory catalog, and keeps its warehouse, logs and pid file in a fresh directory under
# ${TMPDIR:-/tmp}. pyspark 4 ships the Spark Connect server jar (jars/spark-connect_*.jar):
# nothing is downloaded. The pip package has no sbin/start-connect-server.sh, so when that
# script is absent the server is started the way it would start it (`spark-daemon.sh submit
# org.apache.spark.sql.connect.service.SparkConnectServer`).
#
# Environment:
#   ML_PYTHON        python with pyspark installed (default: .venv/bin/python, then python3)
#   ML_SC_PORT       port to listen on (default: a free one)
#   ML_SC_MEMORY     driver memory (default 2g)
#   ML_TEST_SCDIR    (stop/status) the directory that `start` printed; without it, the last
#                    one started from this checkout (recorded in .ci/scdata/current)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
STATE_DIR="$HERE/scdata"          # git-ignored; holds only a pointer to the temp dir
STATE_FILE="$STATE_DIR/current"
CLASS="org.apache.spark.sql.connect.service.SparkConnectServer"

log() { printf '[spark-connect.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

python_bin() {
    if [[ -n "${ML_PYTHON:-}" ]]; then echo "$ML_PYTHON"
    elif [[ -x "$ROOT/.venv/bin/python" ]]; then echo "$ROOT/.venv/bin/python"
    else command -v python3 || die "python3 not found"
    fi
}

spark_home() {
    "$(python_bin)" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))' 2>/dev/null \
        || die "pyspark is not installed for $(python_bin) (pip install -e '.[spark]')"
}

free_port() {
    "$(python_bin)" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

port_open() {  # port_open PORT: exit 0 when something accepts connections on 127.0.0.1:PORT
    "$(python_bin)" -c '
import socket, sys
s = socket.socket(); s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

cmd_start() {
    local home; home="$(spark_home)"
    ls "$home"/jars/spark-connect_*.jar >/dev/null 2>&1 \
        || die "no Spark Connect server jar in $home/jars (pyspark >= 4 ships it)"
    command -v java >/dev/null 2>&1 || [[ -n "${JAVA_HOME:-}" ]] \
        || die "java not found (Spark needs Java 17): apt-get install openjdk-17-jre-headless"
    local dir; dir="$(mktemp -d "${TMPDIR:-/tmp}/ml-sc.XXXXXX")"
    local port="${ML_SC_PORT:-$(free_port)}"
    mkdir -p "$dir/local"
    # spark-daemon.sh reads these; the pid file and the log go into our directory
    export SPARK_HOME="$home" SPARK_PID_DIR="$dir" SPARK_LOG_DIR="$dir" SPARK_IDENT_STRING=mltest
    export SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_DIRS="$dir/local" SPARK_CONF_DIR="$dir"
    local args=(
        --name "Spark Connect server" --master "local[2]"
        --driver-memory "${ML_SC_MEMORY:-2g}"
        --conf spark.connect.grpc.binding.address=127.0.0.1
        --conf "spark.connect.grpc.binding.port=$port"
        --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1
        --conf spark.ui.enabled=false
        --conf spark.sql.session.timeZone=UTC
        --conf spark.sql.catalogImplementation=in-memory
        --conf "spark.sql.warehouse.dir=$dir/warehouse"
        --conf spark.sql.shuffle.partitions=4 --conf spark.default.parallelism=2
        --conf "spark.driver.extraJavaOptions=-Duser.timezone=UTC -Dderby.system.home=$dir -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    )
    log "starting $CLASS on 127.0.0.1:$port ($home, dir $dir)"
    if [[ -x "$home/sbin/start-connect-server.sh" ]]; then
        (cd "$dir" && "$home/sbin/start-connect-server.sh" "${args[@]}") >&2
    else
        (cd "$dir" && bash "$home/sbin/spark-daemon.sh" submit "$CLASS" 1 "${args[@]}") >&2
    fi
    printf '%s\n%s\n' "$home" "$port" >"$dir/meta"
    local i pidfile="$dir/spark-mltest-$CLASS-1.pid"
    for i in $(seq 1 120); do
        if port_open "$port"; then break; fi
        if [[ -f "$pidfile" ]] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            tail -n 40 "$dir"/*.out >&2 || true
            rm -rf "$dir"; die "the server exited during start"
        fi
        sleep 0.5
    done
    port_open "$port" || { tail -n 40 "$dir"/*.out >&2 || true; cmd_stop "$dir"; die "server not ready"; }
    mkdir -p "$STATE_DIR" 2>/dev/null && printf '%s\n' "$dir" >"$STATE_FILE" 2>/dev/null || true
    log "ready on 127.0.0.1:$port"
    echo "export ML_TEST_SPARK_CONNECT_URL=sc://127.0.0.1:$port"
    echo "export ML_TEST_SCDIR=$dir"
}

resolve_dir() {
    local dir="${1:-${ML_TEST_SCDIR:-}}"
    if [[ -z "$dir" && -f "$STATE_FILE" ]]; then dir="$(cat "$STATE_FILE")"; fi
    echo "$dir"
}

cmd_stop() {
    local dir; dir="$(resolve_dir "${1:-}")"
    if [[ -z "$dir" || ! -d "$dir" ]]; then log "nothing to stop"; return 0; fi
    case "$dir" in */ml-sc.*) ;; *) die "refusing to remove $dir (not an ml-sc.* directory)";; esac
    local pidfile="$dir/spark-mltest-$CLASS-1.pid" pid i
    if [[ -f "$pidfile" ]]; then
        pid="$(cat "$pidfile")"
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
            kill -0 "$pid" 2>/dev/null && { log "server $pid did not stop: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
        fi
    fi
    rm -rf "$dir"
    if [[ -f "$STATE_FILE" && "$(cat "$STATE_FILE" 2>/dev/null)" == "$dir" ]]; then rm -f "$STATE_FILE"; fi
    log "stopped and removed $dir"
}

cmd_status() {
    local dir; dir="$(resolve_dir "${1:-}")"
    [[ -n "$dir" && -f "$dir/meta" ]] || { log "no server recorded"; return 1; }
    local port; port="$(sed -n 2p "$dir/meta")"
    if port_open "$port"; then log "up on 127.0.0.1:$port"; else log "not answering on $port"; return 1; fi
}

case "${1:-}" in
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    status) shift; cmd_status "$@" ;;
    *) echo "usage: $0 start|stop [dir]|status [dir]" >&2; exit 2 ;;
esac
