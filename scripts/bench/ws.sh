#!/usr/bin/env bash
# WebSocket load bench, loopback only and bounded: opens CONNECTIONS idle
# sockets on one tokenward instance, reports server memory per idle connection
# and p50/p99 from a logout to the `session.revoked` frame, on the same
# instance and (with PostgreSQL and Redis reachable) across two instances.
#
#   scripts/bench/ws.sh                 # 10,000 sockets, 200 samples each way
#   CONNECTIONS=2000 SAMPLES=50 scripts/bench/ws.sh
#
# Environment: CONNECTIONS, SAMPLES, BENCH_POSTGRES_URL (server to create a
# throw-away database on; default postgres://postgres@127.0.0.1:5432/postgres),
# BENCH_REDIS_URL (default redis://127.0.0.1:6379). Without PostgreSQL or Redis
# the cross-instance part is skipped and the single instance runs on SQLite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

connections="${CONNECTIONS:-10000}"
samples="${SAMPLES:-200}"
pg_base="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
redis_url="${BENCH_REDIS_URL:-redis://127.0.0.1:6379}"
if (( connections > 20000 )); then
    echo "CONNECTIONS is capped at 20000 (loopback bench)" >&2
    exit 2
fi

# Each socket is a descriptor in the server and one in the client.
ulimit -n "$(( connections + 1024 ))" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n)"

cargo build --release --quiet --bin tokenward --example ws_bench
bin=target/release/tokenward
bench=target/release/examples/ws_bench

work="$(mktemp -d)"
pids=()
pg_db=""
cleanup() {
    for p in "${pids[@]:-}"; do [[ -n "$p" ]] && kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ -n "$pg_db" ]]; then
        psql "$pg_base" -qc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

export TOKENWARD_BOOTSTRAP_ADMIN_EMAIL=admin@bench.local
export TOKENWARD_BOOTSTRAP_ADMIN_PASSWORD=bench-password-1
export TOKENWARD_BCRYPT_COST=4
export TOKENWARD_LOGIN_RATE_LIMIT=0
export TOKENWARD_WS_MAX_PER_USER=100000
export TOKENWARD_ENCRYPTION_KEY_FILE="$work/tokenward.key"
export TOKENWARD_LOG_FORMAT=json
export RUST_LOG=warn

start() { # port logfile -> pid
    TOKENWARD_BIND="127.0.0.1:$1" "$bin" serve >"$2" 2>&1 &
    echo $!
}
wait_ready() {
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$1/health/ready" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "instance on port $1 did not become ready" >&2
    return 1
}

cross=0
if psql "$pg_base" -qc "SELECT 1" >/dev/null 2>&1 && redis-cli -u "$redis_url" ping >/dev/null 2>&1; then
    cross=1
    pg_db="tokenward_bench_$$"
    psql "$pg_base" -qc "CREATE DATABASE $pg_db" >/dev/null
    export DATABASE_URL="${pg_base%/*}/$pg_db"
    export TOKENWARD_REDIS_URL="$redis_url"
    export TOKENWARD_REDIS_PREFIX="tokenward-bench-$$:"
else
    echo "PostgreSQL or Redis unreachable: single instance on SQLite only"
    export DATABASE_URL="sqlite://$work/bench.db"
fi

pid_a="$(start 18080 "$work/a.log")"; pids+=("$pid_a")
wait_ready 18080
args=(--a http://127.0.0.1:18080 --pid "$pid_a" --connections "$connections" --samples "$samples")
if (( cross )); then
    pid_b="$(start 18081 "$work/b.log")"; pids+=("$pid_b")
    wait_ready 18081
    args+=(--b http://127.0.0.1:18081)
fi
echo "server A: pid $pid_a, $(nproc) cores, database ${DATABASE_URL%%://*}"
"$bench" "${args[@]}"
