#!/usr/bin/env bash
# Benchmark (not a test): does validation on PostgreSQL depend on planner
# statistics? One server, one database, the same tokens, measured twice:
#
# 1. creates a scratch database on BENCH_POSTGRES_URL's server and starts a release
#    build of tokenward on it (HS256, exact validation, no cache);
# 2. logs in SESSIONS times (the tokens the load cycles through), then BURST more
#    times (a young database after a burst of logins), and runs nothing else;
# 3. after a discarded warm-up, runs wrk against GET /auth/validate ROUNDS times for
#    DURATION seconds with the statistics the server's start left (taken on empty
#    tables), printing the planner's row estimates and the lookup's plan;
# 4. runs ANALYZE and measures again the same way, then puts back the statistics
#    of empty tables (superuser: pg_statistic, pg_class) and measures a third time;
# 5. prints both medians and their ratio (target: the never-analyzed figure within
#    10% of the analyzed one), and removes the database.
#
# Usage: scripts/bench/statistics.sh
# Environment (defaults in brackets):
#   BENCH_POSTGRES_URL [postgres://postgres@127.0.0.1:5432/postgres]
#   SESSIONS [256]  BURST [20000]  ROUNDS [3]  DURATION [10]  CONNECTIONS [64]
#   BENCH_PORT [18090]  TOKENWARD_BIN (default: build target/release/tokenward)
# Needs: psql, curl, python3, wrk (Debian: apt-get install -y wrk).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

base_url="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
sessions="${SESSIONS:-256}"
burst="${BURST:-20000}"
rounds="${ROUNDS:-3}"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-64}"
port="${BENCH_PORT:-18090}"
db="tokenward_stats_$$"
db_url="${base_url%/*}/$db"
work="$(mktemp -d)"
server_pid=""

finish() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    psql "$base_url" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap finish EXIT

command -v wrk >/dev/null || { echo "wrk is required (apt-get install -y wrk)" >&2; exit 1; }
bin="${TOKENWARD_BIN:-}"
if [[ -z "$bin" ]]; then
    cargo build --release --quiet
    bin="$PWD/target/release/tokenward"
fi

psql "$base_url" -qc "CREATE DATABASE $db"
echo "== tokenward on $db (HS256, exact validation), $sessions + $burst logins"
(cd "$work" && exec env -i PATH="$PATH" HOME="$work" DATABASE_URL="$db_url" \
    TOKENWARD_BIND="127.0.0.1:$port" TOKENWARD_JWT_ALGORITHM=HS256 \
    TOKENWARD_JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '/+=' | head -c 48)" \
    TOKENWARD_BCRYPT_COST=4 TOKENWARD_TRUSTED_PROXIES=127.0.0.1/32 \
    TOKENWARD_LOGIN_RATE_LIMIT=0 TOKENWARD_LOCKOUT_THRESHOLD=1000000 \
    TOKENWARD_BOOTSTRAP_ADMIN_EMAIL=bench@example.com \
    TOKENWARD_BOOTSTRAP_ADMIN_PASSWORD=bench-Password-8812-x RUST_LOG=warn \
    "$bin") >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 150); do
    curl -s -o /dev/null "http://127.0.0.1:$port/health/live" && break
    sleep 0.2
done

python3 - "$port" "$sessions" "$burst" "$work/access.txt" <<'PY'
import concurrent.futures as cf, json, sys, urllib.request
port, sessions, burst, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
def login(i):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/auth/login", method="POST",
        data=json.dumps({"email": "bench@example.com", "password": "bench-Password-8812-x"}).encode(),
        headers={"Content-Type": "application/json", "User-Agent": UA,
                 "X-Forwarded-For": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"})
    return json.load(urllib.request.urlopen(req))["access_token"]
with cf.ThreadPoolExecutor(8) as pool:
    tokens = list(pool.map(login, range(sessions + burst)))
open(out, "w").write("\n".join(tokens[:sessions]) + "\n")
PY
psql "$db_url" -Atc "SELECT 'rows: ' || (SELECT count(*) FROM sessions) || ' sessions, ' || (SELECT count(*) FROM tokens) || ' tokens'"

# measure LABEL -> one line per round: "LABEL req/s p99"
measure() {
    for r in $(seq "$rounds"); do
        wrk -t2 -c"$connections" -d"${duration}s" --latency -s scripts/bench/validate.lua \
            "http://127.0.0.1:$port" -- "$work/access.txt" >"$work/$1_$r.txt" 2>&1 || true
        awk -v label="$1" '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF}
            END {print label, rps, p99, (bad ? bad : 0)}' "$work/$1_$r.txt"
    done | tee -a "$work/runs.txt"
}

# What the planner believes, and the lookup's plan (the grouped query of
# validation, for three hashes of real tokens).
planner_view() {
    psql "$db_url" -Atc "SELECT 'planner estimate: ' || string_agg(relname || ' ' || reltuples::bigint, ', ')
        FROM pg_class WHERE relname IN ('tokens', 'sessions', 'users')"
    local hashes
    hashes=$(psql "$db_url" -Atc "SELECT string_agg(quote_literal(token_hash), ',') FROM (SELECT token_hash FROM tokens ORDER BY id LIMIT 3) h")
    psql "$db_url" -Atc "EXPLAIN SELECT t.id, s.id, u.id FROM tokens t
        JOIN users u ON u.id = t.user_id LEFT JOIN sessions s ON s.id = t.session_id
        WHERE t.token_hash = ANY(ARRAY[$hashes])" |
        grep -oE '(Seq Scan|Index Scan|Index Only Scan|Bitmap [A-Za-z ]+Scan|Hash Join|Hash Left Join|Nested Loop( Left Join)?|Merge Join)( using [a-z_]+)?( on [a-z_]+)?' |
        paste -sd ';' | sed 's/;/; /g; s/^/lookup plan: /'
}

# A discarded warm-up first, so neither half pays for cold caches.
wrk -t2 -c"$connections" -d10s -s scripts/bench/validate.lua "http://127.0.0.1:$port" -- "$work/access.txt" >/dev/null 2>&1 || true
echo "== statistics as the server's start left them (tables then empty): $rounds x ${duration}s, $connections connections"
planner_view
measure unanalyzed
psql "$db_url" -qc ANALYZE
echo "== after ANALYZE"
planner_view
measure analyzed
# Back to the statistics of empty tables (what the start-up ANALYZE recorded), so
# the order of the halves does not decide the comparison: A, B, then A again.
psql "$db_url" -qc "DELETE FROM pg_statistic WHERE starelid IN ('tokens'::regclass, 'sessions'::regclass, 'users'::regclass);
    UPDATE pg_class SET reltuples = 0, relpages = 0 WHERE relname IN ('tokens', 'sessions', 'users')"
echo "== statistics of empty tables again"
planner_view
measure unanalyzed
python3 - "$work/runs.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, rps, p99, bad = line.split()
    runs.setdefault(label, []).append(float(rps))
    if int(bad) > 0:
        print(f"warning: {label} round had {bad} failed answers: its req/s is not all validations")
u, a = statistics.median(runs["unanalyzed"]), statistics.median(runs["analyzed"])
print(f"median req/s: statistics of empty tables {u:,.0f}, analyzed {a:,.0f}; ratio {u / a:.3f} (target >= 0.90)")
PY
