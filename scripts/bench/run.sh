#!/usr/bin/env bash
# Side-by-side HTTP benchmark of a release build of tokenward, on SQLite and on
# PostgreSQL, against a reference floor (benches/floor_server.rs: the same JWT
# verification with no database), all on this machine, loopback only, each run
# bounded by DURATION seconds.
#
# Cases: GET /auth/validate over many sessions, POST /auth/login at the
# configured bcrypt cost, POST /auth/refresh (rotation), validate during a
# 32-connection login storm, and validate with the validation cache on.
# Prints req/s, p50, p99 and peak RSS per case, each req/s also as a ratio to
# the floor, and writes the table to bench-results/.
#
# Environment:
#   DURATION        seconds per wrk run (default 15)
#   CONNECTIONS     wrk connections for validate (default 64)
#   SESSIONS        sessions seeded for validate/refresh (default 256)
#   BCRYPT_COST     cost of the login case's account (default 12, the server default)
#   BACKENDS        "sqlite postgres" (default both)
#   JWT_ALGORITHM   RS256 (default), ES256, EdDSA or HS256 (no floor: its key is secret)
#   CASES           "validate refresh login storm cached" (default all; the floor always runs)
#   PG_URL          server for the PostgreSQL run (default postgres://postgres@127.0.0.1:5432/postgres)
#   TOKENWARD_BIN   the server binary to measure (default: target/release/tokenward, built first)
#   VOLUME_SESSIONS / VOLUME_TOKENS
#                   rows written straight into the database before measuring, as a
#                   hospital's would hold them: sessions mostly ended, tokens mostly
#                   expired or rotated, nothing analyzed (default 100000 / 1000000;
#                   0 / 0 measures an empty database)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

DURATION="${DURATION:-15}"
CONNECTIONS="${CONNECTIONS:-64}"
SESSIONS="${SESSIONS:-256}"
BCRYPT_COST="${BCRYPT_COST:-12}"
BACKENDS="${BACKENDS:-sqlite postgres}"
JWT_ALGORITHM="${JWT_ALGORITHM:-RS256}"
CASES="${CASES:-validate refresh login storm cached}"
VOLUME_SESSIONS="${VOLUME_SESSIONS:-100000}"
VOLUME_TOKENS="${VOLUME_TOKENS:-1000000}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT=18080
FLOOR_PORT=18081
BENCH_DIR="$(pwd)/scripts/bench"
OUT_DIR="$(pwd)/bench-results"
WORK="$(mktemp -d)"
SERVER_PID=""
FLOOR_PID=""
PG_DB=""

cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
    [[ -n "$FLOOR_PID" ]] && kill "$FLOOR_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    if [[ -n "$PG_DB" ]]; then
        psql "$PG_URL" -qAtc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
    if [[ "$(id -u)" -eq 0 ]]; then
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    else
        echo "wrk is required (apt-get install wrk)" >&2
        exit 1
    fi
fi

echo "== building (release)"
# TOKENWARD_BIN measures another build of the server (an A/B comparison).
[[ -n "${TOKENWARD_BIN:-}" ]] || cargo build --release --quiet --bin tokenward
cargo bench --no-run --quiet --bench floor_server 2>/dev/null || cargo bench --no-run --bench floor_server
FLOOR_BIN="$(find target/release/deps -maxdepth 1 -type f -executable -name 'floor_server-*' -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2)"
BIN="${TOKENWARD_BIN:-target/release/tokenward}"

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

wait_http() {
    for _ in $(seq 1 200); do
        curl -s -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "server at $1 did not come up" >&2
    return 1
}

# run_wrk NAME CONNECTIONS URL SCRIPT [ARGS...] -> prints "rps p50_ms p99_ms non2xx"
run_wrk() {
    local name="$1" conns="$2" url="$3" script="$4"
    shift 4
    local threads=2
    ((conns < 2)) && threads=1
    wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout 30s --latency -s "$script" "$url" -- "$@" >"$WORK/$name.txt" 2>&1 || true
    awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec/ { rps = $2 }
        $1 == "50.000%" || $1 == "50%" { p50 = ms($2) }
        $1 == "99.000%" || $1 == "99%" { p99 = ms($2) }
        /Non-2xx/ { bad = $5 }
        END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad }
    ' "$WORK/$name.txt"
    # Keep wrk's whole output (with any script diagnostics) when requests failed.
    if grep -q "Non-2xx" "$WORK/$name.txt"; then
        cp "$WORK/$name.txt" "$OUT_DIR/wrk-$STAMP-${CURRENT_BACKEND:-x}-$name.log"
    fi
}

start_server() {
    local backend="$1" url="$2" cache_ms="$3"
    DATABASE_URL="$url" TOKENWARD_BIND="127.0.0.1:$PORT" \
        TOKENWARD_ENCRYPTION_KEY_FILE="$WORK/$backend.key" \
        TOKENWARD_BOOTSTRAP_ADMIN_EMAIL=admin@bench.local TOKENWARD_BOOTSTRAP_ADMIN_PASSWORD=bench-admin-pw \
        TOKENWARD_LOGIN_RATE_LIMIT=0 TOKENWARD_LOCKOUT_THRESHOLD=1000000 \
        TOKENWARD_BCRYPT_COST="$BCRYPT_COST" TOKENWARD_VALIDATION_CACHE_MS="$cache_ms" \
        TOKENWARD_JWT_ALGORITHM="$JWT_ALGORITHM" \
        RUST_LOG=warn "$BIN" serve >"$WORK/server-$backend.log" 2>&1 &
    SERVER_PID=$!
    wait_http "http://127.0.0.1:$PORT/health/ready"
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# A browser's user agent, as most rows carry one.
UA="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

# VOLUME_SESSIONS sessions and VOLUME_TOKENS tokens of the account
# volume@bench.local: one session in ten still open, one token in ten
# unexpired, one in three rotated. Written with SQL, not through the API, and
# not analyzed afterwards.
seed_volume() {
    local backend="$1" url="$2"
    ((VOLUME_SESSIONS > 0)) || return 0
    DATABASE_URL="$url" TOKENWARD_ENCRYPTION_KEY_FILE="$WORK/$backend.key" TOKENWARD_BCRYPT_COST=4 \
        TOKENWARD_USER_PASSWORD=Quiet-Harbour-Lantern-47 RUST_LOG=warn "$BIN" user create --email volume@bench.local >/dev/null
    local started=$SECONDS
    if [[ "$backend" == postgres ]]; then
        psql "$url" -qAt -v ON_ERROR_STOP=1 <<SQL
INSERT INTO sessions (user_id, created_at, last_seen_at, expires_at, ip_address, user_agent, revoked)
SELECT u.id, now() - interval '40 days', now() - interval '20 days',
       CASE WHEN g % 10 = 0 THEN now() + interval '7 days' ELSE now() - interval '1 day' END,
       '10.1.' || (g % 250) || '.' || (g % 200), '$UA', g % 20 = 0
FROM users u, generate_series(1, $VOLUME_SESSIONS) g WHERE u.email = 'volume@bench.local';
INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, session_id, created_at,
                    expires_at, revoked, revoked_at, revoked_reason, user_agent, ip_address)
SELECT 'volume-' || g, md5('volume-a' || g) || md5('volume-b' || g),
       CASE WHEN g % 2 = 0 THEN 'access' ELSE 'refresh' END, u.id, u.email,
       f.first + g % $VOLUME_SESSIONS, now() - interval '30 days',
       CASE WHEN g % 10 = 0 THEN now() + interval '1 hour' ELSE now() - interval '2 days' END,
       g % 3 = 0, CASE WHEN g % 3 = 0 THEN now() - interval '3 days' END,
       CASE WHEN g % 3 = 0 THEN 'rotated' END, '$UA', '10.1.' || (g % 250) || '.' || (g % 200)
FROM users u,
     (SELECT MIN(s.id) AS first FROM sessions s JOIN users v ON v.id = s.user_id
      WHERE v.email = 'volume@bench.local') f,
     generate_series(1, $VOLUME_TOKENS) g
WHERE u.email = 'volume@bench.local';
SQL
    else
        sqlite3 "${url#sqlite://}" <<SQL
PRAGMA busy_timeout = 10000;
BEGIN;
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $VOLUME_SESSIONS)
INSERT INTO sessions (user_id, created_at, last_seen_at, expires_at, ip_address, user_agent, revoked)
SELECT u.id, datetime('now', '-40 days'), datetime('now', '-20 days'),
       CASE WHEN n % 10 = 0 THEN datetime('now', '+7 days') ELSE datetime('now', '-1 day') END,
       '10.1.' || (n % 250) || '.' || (n % 200), '$UA', n % 20 = 0
FROM users u, g WHERE u.email = 'volume@bench.local';
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $VOLUME_TOKENS),
     f(first) AS (SELECT MIN(s.id) FROM sessions s JOIN users v ON v.id = s.user_id
                  WHERE v.email = 'volume@bench.local')
INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, session_id, created_at,
                    expires_at, revoked, revoked_at, revoked_reason, user_agent, ip_address)
SELECT 'volume-' || n, printf('%032x%032x', n * 2654435761, n * 40503),
       CASE WHEN n % 2 = 0 THEN 'access' ELSE 'refresh' END, u.id, u.email,
       f.first + n % $VOLUME_SESSIONS, datetime('now', '-30 days'),
       CASE WHEN n % 10 = 0 THEN datetime('now', '+1 hour') ELSE datetime('now', '-2 days') END,
       n % 3 = 0, CASE WHEN n % 3 = 0 THEN datetime('now', '-3 days') END,
       CASE WHEN n % 3 = 0 THEN 'rotated' END, '$UA', '10.1.' || (n % 250) || '.' || (n % 200)
FROM users u, f, g WHERE u.email = 'volume@bench.local';
COMMIT;
SQL
    fi
    echo "volume: $VOLUME_SESSIONS sessions, $VOLUME_TOKENS tokens in $((SECONDS - started)) s (not analyzed)"
}

seed_sessions() {
    : >"$WORK/access-tokens.txt"
    : >"$WORK/refresh-tokens.txt"
    for _ in $(seq 1 "$SESSIONS"); do
        curl -sf -X POST "http://127.0.0.1:$PORT/auth/login" -H 'content-type: application/json' \
            -d '{"email":"seed@bench.local","password":"Quiet-Harbour-Lantern-47"}' |
            python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["access_token"]); print(t["refresh_token"], file=sys.stderr)' \
                >>"$WORK/access-tokens.txt" 2>>"$WORK/refresh-tokens.txt"
    done
}

mkdir -p "$OUT_DIR"
STAMP="$(date -u +%Y-%m-%dT%H-%M-%SZ)"
REPORT="$OUT_DIR/bench-$STAMP.md"
{
    echo "# tokenward benchmark, $STAMP"
    echo
    echo "$(nproc) cores, wrk and servers on the same machine; ${DURATION}s per run; $JWT_ALGORITHM; validate with $CONNECTIONS connections over $SESSIONS sessions among $VOLUME_SESSIONS more and $VOLUME_TOKENS token rows (not analyzed); login at bcrypt cost $BCRYPT_COST; RUST_LOG=warn."
    echo
    echo "| backend | case | req/s | ratio to floor | p50 ms | p99 ms | non-2xx | peak RSS MB |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
} >"$REPORT"

row() { # backend case rps p50 p99 bad rss_kb floor_rps
    local ratio="-"
    [[ "$8" != "-" && "$8" -gt 0 ]] && ratio="$(awk -v a="$3" -v b="$8" 'BEGIN { printf "%.2f", a / b }')"
    local line="| $1 | $2 | $3 | $ratio | $4 | $5 | $6 | $(awk -v k="$7" 'BEGIN { printf "%.1f", k / 1024 }') |"
    echo "$line" | tee -a "$REPORT"
}

for backend in $BACKENDS; do
    CURRENT_BACKEND="$backend"
    echo "== $backend"
    case "$backend" in
        sqlite) url="sqlite://$WORK/bench.db" ;;
        postgres)
            PG_DB="tokenward_bench_$$"
            psql "$PG_URL" -qAtc "CREATE DATABASE $PG_DB" >/dev/null
            url="${PG_URL%/*}/$PG_DB"
            ;;
        *) echo "unknown backend $backend" >&2; exit 1 ;;
    esac
    start_server "$backend" "$url" 0
    idle_kb="$(rss_kb "$SERVER_PID")"
    # The seeding account hashes at cost 4 so that seeding is quick; the
    # login case uses the bootstrap admin, hashed at $BCRYPT_COST.
    DATABASE_URL="$url" TOKENWARD_ENCRYPTION_KEY_FILE="$WORK/$backend.key" TOKENWARD_BCRYPT_COST=4 \
        TOKENWARD_USER_PASSWORD=Quiet-Harbour-Lantern-47 RUST_LOG=warn "$BIN" user create --email seed@bench.local >/dev/null
    seed_volume "$backend" "$url"
    seed_sessions

    # The floor verifies the very same tokens with the published keys; an HS256
    # secret is never published, so with HS256 there is no floor (ratios "-").
    frps="-"
    if [[ "$JWT_ALGORITHM" != "HS256" ]]; then
        "$FLOOR_BIN" --bind "127.0.0.1:$FLOOR_PORT" --jwks "http://127.0.0.1:$PORT/.well-known/jwks.json" >"$WORK/floor.log" 2>&1 &
        FLOOR_PID=$!
        wait_http "http://127.0.0.1:$FLOOR_PORT/auth/validate" || true
        read -r frps fp50 fp99 fbad < <(run_wrk floor "$CONNECTIONS" "http://127.0.0.1:$FLOOR_PORT" "$BENCH_DIR/validate.lua" "$WORK/access-tokens.txt")
        floor_hwm="$(hwm_kb "$FLOOR_PID")"
        kill "$FLOOR_PID" 2>/dev/null || true
        wait "$FLOOR_PID" 2>/dev/null || true
        FLOOR_PID=""
        row "$backend" "floor: JWT verify only" "$frps" "$fp50" "$fp99" "$fbad" "$floor_hwm" "$frps"
    else
        echo "floor skipped: HS256 keys are not published"
    fi

    has() { [[ " $CASES " == *" $1 "* ]]; }
    if has validate; then
    read -r rps p50 p99 bad < <(run_wrk validate "$CONNECTIONS" "http://127.0.0.1:$PORT" "$BENCH_DIR/validate.lua" "$WORK/access-tokens.txt")
    row "$backend" "GET /auth/validate" "$rps" "$p50" "$p99" "$bad" "$(hwm_kb "$SERVER_PID")" "$frps"
    fi
    if has refresh; then

    [[ -n "${BENCH_TOP:-}" ]] && (sleep $((DURATION / 2)); top -b -n1 -w 200 | head -20 >"$OUT_DIR/top-refresh.txt") &
    read -r rps p50 p99 bad < <(run_wrk refresh 32 "http://127.0.0.1:$PORT" "$BENCH_DIR/refresh.lua" "$WORK/refresh-tokens.txt" 2)
    row "$backend" "POST /auth/refresh" "$rps" "$p50" "$p99" "$bad" "$(hwm_kb "$SERVER_PID")" "$frps"
    fi
    if has login; then

    read -r rps p50 p99 bad < <(run_wrk login 32 "http://127.0.0.1:$PORT" "$BENCH_DIR/login.lua" admin@bench.local bench-admin-pw)
    row "$backend" "POST /auth/login (cost $BCRYPT_COST)" "$rps" "$p50" "$p99" "$bad" "$(hwm_kb "$SERVER_PID")" "$frps"
    fi
    if has storm; then

    # Validate while 32 connections hammer login.
    run_wrk storm 32 "http://127.0.0.1:$PORT" "$BENCH_DIR/login.lua" admin@bench.local bench-admin-pw >"$WORK/storm.out" &
    storm_pid=$!
    sleep 1
    read -r rps p50 p99 bad < <(DURATION=$((DURATION - 2)) run_wrk during-storm "$CONNECTIONS" "http://127.0.0.1:$PORT" "$BENCH_DIR/validate.lua" "$WORK/access-tokens.txt")
    wait "$storm_pid" || true
    row "$backend" "validate during login storm" "$rps" "$p50" "$p99" "$bad" "$(hwm_kb "$SERVER_PID")" "$frps"
    fi
    peak_kb="$(hwm_kb "$SERVER_PID")"
    stop_server

    if has cached; then
    start_server "$backend" "$url" 500
    read -r rps p50 p99 bad < <(run_wrk cached "$CONNECTIONS" "http://127.0.0.1:$PORT" "$BENCH_DIR/validate.lua" "$WORK/access-tokens.txt")
    row "$backend" "validate, cache 500 ms" "$rps" "$p50" "$p99" "$bad" "$(hwm_kb "$SERVER_PID")" "$frps"
    stop_server
    fi

    echo "| $backend | idle RSS after start | | | | | | $(awk -v k="$idle_kb" 'BEGIN { printf "%.1f", k / 1024 }') |" | tee -a "$REPORT"
    echo "| $backend | peak RSS under load (no cache) | | | | | | $(awk -v k="$peak_kb" 'BEGIN { printf "%.1f", k / 1024 }') |" | tee -a "$REPORT"

    if [[ "$backend" == postgres ]]; then
        psql "$PG_URL" -qAtc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
        PG_DB=""
    fi
done

echo
echo "report: $REPORT"
