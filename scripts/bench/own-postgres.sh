#!/usr/bin/env bash
# Runs a benchmark against a PostgreSQL instance of its own, with settings closer
# to a production server than a CI image's: a fresh cluster (initdb) in a temporary
# folder, started on 127.0.0.1:OWN_PG_PORT for the length of the command, then
# stopped and deleted. The command gets the instance's URL in BENCH_POSTGRES_URL
# (scripts/bench/cleanup.sh) and PG_URL (scripts/bench/run.sh).
#
# Usage: scripts/bench/own-postgres.sh COMMAND [ARGS...]
#   e.g. scripts/bench/own-postgres.sh bash scripts/bench/cleanup.sh
#
# Settings of the instance (against PostgreSQL's stock values):
#   autovacuum = on           (stock: on; the shared CI instance runs with it off)
#   shared_buffers = 1GB      (stock 128MB)
#   max_wal_size = 8GB        (stock 1GB: a 1M-row cleanup then checkpoints mid-run)
#   checkpoint_timeout = 15min, checkpoint_completion_target = 0.9
#   wal_compression = on, effective_io_concurrency = 32, random_page_cost = 1.1 (SSD)
# Durability is untouched: fsync, full_page_writes and synchronous_commit stay on.
#
# Environment: OWN_PG_PORT [55432], OWN_PG_BIN [newest /usr/lib/postgresql/*/bin],
#              OWN_PG_SHARED_BUFFERS [1GB], OWN_PG_MAX_WAL_SIZE [8GB],
#              OWN_PG_CONF (more postgresql.conf lines, e.g. auto_explain of slow
#              statements), OWN_PG_LOG (a file to keep the server's log in).
# Needs the PostgreSQL server package (Debian: postgresql); as root the cluster
# belongs to the `postgres` system user, as initdb refuses to run as root.
set -euo pipefail

port="${OWN_PG_PORT:-55432}"
bin="${OWN_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
shared_buffers="${OWN_PG_SHARED_BUFFERS:-1GB}"
max_wal_size="${OWN_PG_MAX_WAL_SIZE:-8GB}"

[[ $# -gt 0 ]] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
[[ -x "$bin/initdb" && -x "$bin/pg_ctl" ]] || {
    echo "error: no PostgreSQL server binaries (initdb, pg_ctl) in '$bin'; set OWN_PG_BIN" >&2
    exit 1
}
[[ "$port" =~ ^[0-9]+$ ]] || { echo "error: OWN_PG_PORT must be a port number" >&2; exit 1; }

dir="$(mktemp -d /tmp/tokenward-own-pg.XXXXXX)"
as_owner=()
if [[ "$(id -u)" -eq 0 ]]; then
    chown postgres: "$dir"
    as_owner=(runuser -u postgres --)
fi

stop_instance() {
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    if [[ -n "${OWN_PG_LOG:-}" ]]; then cp "$dir/server.log" "$OWN_PG_LOG" || true; fi
    rm -rf "$dir"
}
trap stop_instance EXIT

"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
}
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
autovacuum = on
shared_buffers = $shared_buffers
max_wal_size = $max_wal_size
checkpoint_timeout = 15min
checkpoint_completion_target = 0.9
wal_compression = on
effective_io_concurrency = 32
random_page_cost = 1.1
${OWN_PG_CONF:-}
CONF
"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null || {
    cat "$dir/server.log" >&2
    exit 1
}

url="postgres://postgres@127.0.0.1:$port/postgres"
echo "== own PostgreSQL instance at $url ($("$bin/postgres" --version))"
echo "   autovacuum on, shared_buffers $shared_buffers, max_wal_size $max_wal_size, checkpoint_timeout 15min"
status=0
BENCH_POSTGRES_URL="$url" PG_URL="$url" OWN_POSTGRES_SETTINGS="production-like" "$@" || status=$?
exit "$status"
