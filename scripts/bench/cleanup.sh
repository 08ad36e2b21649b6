#!/usr/bin/env bash
# Benchmark (not a test): the cleanup job on a large PostgreSQL tokens table while
# GET /auth/validate is under load. Loopback only; every step is bounded in time.
#
# 1. creates a scratch database on BENCH_POSTGRES_URL's server and starts a release
#    build of tokenward on it (127.0.0.1:BENCH_PORT, scheduled cleanup disabled);
# 2. fills it with SQL generate_series: BENCH_EXPIRED expired tokens (nine in ten
#    past the 24 h retention, in ended sessions; one in ten expired within it) and
#    BENCH_LIVE live ones, plus BENCH_AUDIT audit events past their retention;
# 3. logs in BENCH_TOKENS times for real access tokens and runs wrk against
#    /auth/validate for BENCH_DURATION seconds ("before");
# 4. runs `tokenward cleanup` once while the same load runs ("during");
# 5. prints the cleanup's duration, its slowest single statement (timed by the job
#    itself), validate p50/p99 before and during, and the issue's targets; the
#    report is also written to bench-results/.
#
# Usage: scripts/bench/cleanup.sh
#        scripts/bench/own-postgres.sh bash scripts/bench/cleanup.sh   (production-like settings)
# Environment (defaults in brackets):
#   BENCH_POSTGRES_URL  server to use [postgres://postgres@127.0.0.1:5432/postgres]
#   BENCH_EXPIRED [1000000]  BENCH_LIVE [200000]  BENCH_AUDIT [100000]
#   BENCH_DURATION [20] seconds of load before  BENCH_CONNECTIONS [16]  BENCH_THREADS [2]
#   BENCH_TOKENS [8] access tokens cycled by the load  BENCH_PORT [18080]
#   TOKENWARD_BIN  a tokenward binary to use instead of building target/release/tokenward
# Needs: psql, curl, python3, wrk (Debian: apt-get install -y wrk).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

base_url="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
expired="${BENCH_EXPIRED:-1000000}"
live="${BENCH_LIVE:-200000}"
audit="${BENCH_AUDIT:-100000}"
duration="${BENCH_DURATION:-20}"
connections="${BENCH_CONNECTIONS:-16}"
threads="${BENCH_THREADS:-2}"
token_count="${BENCH_TOKENS:-8}"
port="${BENCH_PORT:-18080}"
admin_email="bench-admin@example.com"
admin_password="bench-password-1"

die() {
    echo "error: $*" >&2
    exit 1
}

for tool in psql curl python3 wrk; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (wrk: apt-get install -y wrk)"
done
for n in "$expired" "$live" "$audit" "$duration" "$connections" "$threads" "$token_count" "$port"; do
    [[ "$n" =~ ^[0-9]+$ ]] || die "BENCH_* values must be whole numbers (got $n)"
done

db_name="tokenward_bench_$$"
db_url="${base_url%/*}/$db_name"
work="$(mktemp -d)"
server_pid=""
wrk_pid=""

finish() {
    [[ -n "$wrk_pid" ]] && kill "$wrk_pid" 2>/dev/null || true
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    psql "$base_url" -X -q -c "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap finish EXIT

bin="${TOKENWARD_BIN:-}"
if [[ -z "$bin" ]]; then
    echo "== building tokenward (release)"
    timeout 900 cargo build --release --locked --bin tokenward
    bin=target/release/tokenward
fi

export DATABASE_URL="$db_url"
export TOKENWARD_BIND="127.0.0.1:$port"
export TOKENWARD_BOOTSTRAP_ADMIN_EMAIL="$admin_email"
export TOKENWARD_BOOTSTRAP_ADMIN_PASSWORD="$admin_password"
export TOKENWARD_ENCRYPTION_KEY_FILE="$work/tokenward.key"
export TOKENWARD_CLEANUP_CRON=""
export TOKENWARD_BCRYPT_COST=4
export TOKENWARD_ACCESS_TOKEN_TTL=3600
export RUST_LOG="${RUST_LOG:-warn}"

echo "== scratch database $db_name"
psql "$base_url" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db_name" >/dev/null

echo "== starting tokenward on 127.0.0.1:$port"
"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
ready=""
for _ in $(seq 1 60); do
    if curl -fsS --max-time 2 "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then
        ready=yes
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 1
done
[[ -n "$ready" ]] || { cat "$work/server.log" >&2; die "the server did not become ready in 60 s"; }

old=$((expired * 9 / 10))
recent=$((expired - old))
echo "== filling: $old tokens past retention, $recent recently expired, $live live, $audit old audit events"
fill_started=$SECONDS
timeout 1800 psql "$db_url" -X -q -v ON_ERROR_STOP=1 \
    -v old="$old" -v recent="$recent" -v live="$live" -v audit="$audit" <<'SQL'
SELECT id AS uid FROM users ORDER BY id LIMIT 1 \gset
-- Ended sessions hold the old tokens (ten each); live sessions hold the rest.
WITH s AS (
    INSERT INTO sessions (user_id, created_at, last_seen_at, expires_at)
    SELECT :uid, NOW() - INTERVAL '10 days', NOW() - INTERVAL '3 days', NOW() - INTERVAL '3 days'
    FROM generate_series(1, GREATEST(:old / 10, 1))
    RETURNING id)
SELECT MIN(id) AS old_lo, COUNT(*) AS old_n FROM s \gset
WITH s AS (
    INSERT INTO sessions (user_id, created_at, last_seen_at, expires_at)
    SELECT :uid, NOW() - INTERVAL '1 day', NOW(), NOW() + INTERVAL '7 days'
    FROM generate_series(1, GREATEST((:recent + :live) / 10, 1))
    RETURNING id)
SELECT MIN(id) AS live_lo, COUNT(*) AS live_n FROM s \gset
INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, session_id,
                    created_at, expires_at)
SELECT 'old-' || g, md5('old-' || g) || md5('old-x-' || g),
       CASE WHEN g % 2 = 0 THEN 'access' ELSE 'refresh' END, :uid,
       'user' || (g % 5000) || '@example.com', :old_lo + (g % :old_n),
       NOW() - INTERVAL '4 days', NOW() - INTERVAL '25 hours' - (g % 172800) * INTERVAL '1 second'
FROM generate_series(1, :old) AS g;
INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, session_id,
                    created_at, expires_at)
SELECT 'recent-' || g, md5('recent-' || g) || md5('recent-x-' || g), 'access', :uid,
       'user' || (g % 5000) || '@example.com', :live_lo + (g % :live_n),
       NOW() - INTERVAL '1 day', NOW() - (g % 82800 + 60) * INTERVAL '1 second'
FROM generate_series(1, :recent) AS g;
INSERT INTO tokens (jti, token_hash, token_type, user_id, user_email, session_id,
                    created_at, expires_at)
SELECT 'live-' || g, md5('live-' || g) || md5('live-x-' || g),
       CASE WHEN g % 2 = 0 THEN 'access' ELSE 'refresh' END, :uid,
       'user' || (g % 5000) || '@example.com', :live_lo + (g % :live_n),
       NOW(), NOW() + INTERVAL '1 hour' + (g % 518400) * INTERVAL '1 second'
FROM generate_series(1, :live) AS g;
INSERT INTO audit_events (event, user_id, created_at, details)
SELECT 'login_succeeded', :uid, NOW() - INTERVAL '100 days', '{}'
FROM generate_series(1, :audit);
VACUUM ANALYZE tokens;
VACUUM ANALYZE sessions;
VACUUM ANALYZE audit_events;
SQL
echo "   filled in $((SECONDS - fill_started)) s"

echo "== logging in $token_count times for real access tokens"
: >"$work/tokens.txt"
for _ in $(seq 1 "$token_count"); do
    curl -fsS --max-time 10 -H 'content-type: application/json' \
        -d "{\"email\":\"$admin_email\",\"password\":\"$admin_password\"}" \
        "http://127.0.0.1:$port/auth/login" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])' >>"$work/tokens.txt"
done

cat >"$work/validate.lua" <<'LUA'
-- Cycles through real access tokens; reports p50/p99 in ms and the failures.
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKEN_FILE")) do
    tokens[#tokens + 1] = line
end
local i = 0
request = function()
    i = i % #tokens + 1
    return wrk.format("GET", "/auth/validate", { ["Authorization"] = "Bearer " .. tokens[i] })
end
done = function(summary, latency, requests)
    local failed = summary.errors.status + summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.timeout
    io.write(string.format("RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f failed=%d\n",
        summary.requests, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, failed))
end
LUA
export BENCH_TOKEN_FILE="$work/tokens.txt"
load() { # load SECONDS OUTPUT
    timeout $(($1 + 30)) wrk -t"$threads" -c"$connections" -d"$1s" --timeout 5s \
        -s "$work/validate.lua" "http://127.0.0.1:$port" >"$2" 2>&1
}
field() { # field FILE NAME
    grep '^RESULT' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

echo "== validate load before cleanup (${duration} s)"
load "$duration" "$work/before.txt"

echo "== validate load during cleanup"
# At most 600 s; interrupted (and so summarised) as soon as cleanup returns.
wrk -t"$threads" -c"$connections" -d600s --timeout 5s -s "$work/validate.lua" \
    "http://127.0.0.1:$port" >"$work/during.txt" 2>&1 &
wrk_pid=$!
sleep 2
# Row updates of tokens (all, heap-only) and autovacuum runs, before and after.
updates_before="$(psql "$db_url" -X -A -t -c "SELECT n_tup_upd || ' ' || n_tup_hot_upd || ' ' || autovacuum_count || ' ' || autoanalyze_count FROM pg_stat_user_tables WHERE relname = 'tokens'")"
cleanup_started=$(date +%s.%N)
# Debug level on the cleanup service logs every statement's rows and time.
RUST_LOG="warn,tokenward::services::cleanup=debug" \
    timeout 900 "$bin" cleanup >"$work/cleanup.txt" 2>"$work/cleanup.log"
cleanup_ended=$(date +%s.%N)
# wrk prints its summary when interrupted.
kill -INT "$wrk_pid" 2>/dev/null || true
wait "$wrk_pid" 2>/dev/null || true
wrk_pid=""

sleep 1 # the statistics of the last statements reach the server
updates_after="$(psql "$db_url" -X -A -t -c "SELECT n_tup_upd || ' ' || n_tup_hot_upd || ' ' || autovacuum_count || ' ' || autoanalyze_count FROM pg_stat_user_tables WHERE relname = 'tokens'")"
read -r upd0 hot0 av0 an0 <<<"$updates_before"
read -r upd1 hot1 av1 an1 <<<"$updates_after"
updates="$((upd1 - upd0)) updates, $((hot1 - hot0)) of them heap-only; autovacuum of tokens during the run: $((av1 - av0)) vacuum, $((an1 - an0)) analyze"
remaining="$(psql "$db_url" -X -A -t -c "SELECT COUNT(*) || ' tokens (' || COUNT(*) FILTER (WHERE expired) || ' marked expired)' FROM tokens")"
# Debug lines (one per statement) come before the summary line.
cleanup_line="$(grep '^cleanup done' "$work/cleanup.txt" | tail -1)"
statement_times="$(sed -n 's/.*cleanup statement.* ms=\([0-9.]*\).*/\1/p' "$work/cleanup.txt" | sort -g \
    | awk '{ t[NR] = $1; if ($1 > 250) over++ }
           END { if (NR) printf "p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, %d of %d over 250 ms", t[int((NR + 1) * 0.5)], t[int(NR * 0.9) + (NR < 10)], t[int(NR * 0.99) + (NR < 100)], over, NR }')"
wall="$(python3 -c "print(f'{$cleanup_ended - $cleanup_started:.1f}')")"
slowest_ms="$(sed -n 's/.*slowest \([0-9]*\) ms.*/\1/p' <<<"$cleanup_line")"
b50="$(field "$work/before.txt" p50_ms)"; b99="$(field "$work/before.txt" p99_ms)"
d50="$(field "$work/during.txt" p50_ms)"; d99="$(field "$work/during.txt" p99_ms)"
[[ -n "$b99" && -n "$d99" ]] || { cat "$work/before.txt" "$work/during.txt" >&2; die "wrk gave no result"; }

pg_settings="$(psql "$db_url" -X -A -t -c "SELECT split_part(version(), ' ', 2) || ', autovacuum ' || current_setting('autovacuum') || ', shared_buffers ' || current_setting('shared_buffers') || ', max_wal_size ' || current_setting('max_wal_size') || ', checkpoint_timeout ' || current_setting('checkpoint_timeout')")"
verdict() { python3 -c "print('met' if $1 else 'MISSED')"; }
mkdir -p bench-results
report="bench-results/cleanup-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
    echo "tokenward cleanup benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
    echo "data: $old tokens past retention, $recent recently expired, $live live, $audit old audit events"
    echo "load: wrk -t$threads -c$connections GET /auth/validate over $token_count tokens"
    echo "postgres: $pg_settings"
    echo
    echo "cleanup:           $cleanup_line"
    echo "cleanup wall time: $wall s (target < 60 s: $(verdict "$wall < 60"))"
    echo "slowest statement: ${slowest_ms:-?} ms (target <= 250 ms: $(verdict "${slowest_ms:-999999} <= 250"))"
    echo "statement times:   ${statement_times:-?}"
    echo "left afterwards:   $remaining"
    echo "tokens rows:       $updates"
    echo "validate before:   p50 $b50 ms, p99 $b99 ms ($(grep '^RESULT' "$work/before.txt" | sed 's/^RESULT //'))"
    echo "validate during:   p50 $d50 ms, p99 $d99 ms ($(grep '^RESULT' "$work/during.txt" | sed 's/^RESULT //'))"
    echo "p99 during / before: $(python3 -c "print(f'{$d99 / $b99:.2f}')") (target <= 2: $(verdict "$d99 <= 2 * $b99"))"
} | tee "$report"
cp "$work/cleanup.txt" "${report%.txt}-statements.log"
echo "report written to $report (every cleanup statement in ${report%.txt}-statements.log)"
