#!/usr/bin/env bash
# Runs the whole test suite: `cargo test --locked --all-targets`, forwarding any
# arguments to the test harness (e.g. `scripts/test.sh refresh --nocapture`).
# The integration tests run every test twice, on SQLite and on PostgreSQL.
#
# Environment:
#   TOKENWARD_TEST_POSTGRES_URL  server the PostgreSQL copies use; each test creates
#                                and drops its own database there
#                                (default postgres://postgres@127.0.0.1:5432/postgres)
#   CI                           when "true", PostgreSQL must be reachable: this
#                                script fails up front instead of letting tests skip
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export TOKENWARD_TEST_POSTGRES_URL="${TOKENWARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

# Never print the password part of a URL.
redact_url() {
    sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$1"
}

postgres_reachable() {
    local url="$1"
    if command -v psql >/dev/null 2>&1; then
        # Also proves the credentials work, not just that the port answers.
        PGCONNECT_TIMEOUT=5 psql "$url" -X -q -A -t -c 'SELECT 1' >/dev/null
    elif command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -t 5 -d "$url"
    else
        echo "error: neither psql nor pg_isready is installed (package postgresql-client)," >&2
        echo "       so PostgreSQL cannot be checked." >&2
        return 1
    fi
}

if [[ "${CI:-}" == "true" ]]; then
    if ! postgres_reachable "$TOKENWARD_TEST_POSTGRES_URL"; then
        echo "error: CI=true but PostgreSQL is not reachable at $(redact_url "$TOKENWARD_TEST_POSTGRES_URL")." >&2
        echo "       The PostgreSQL half of the suite must run in CI; start the server" >&2
        echo "       (or set TOKENWARD_TEST_POSTGRES_URL) and try again." >&2
        exit 1
    fi
    echo "PostgreSQL reachable at $(redact_url "$TOKENWARD_TEST_POSTGRES_URL")"
fi

# The Python tools of the contract tests (tests/api/contract.rs), pinned, in
# target/contract-tools; without them those tests skip, or fail under CI=true.
if ! bash scripts/contract-tools.sh; then
    [[ "${CI:-}" == "true" ]] && { echo "error: the contract tools did not install" >&2; exit 1; }
    echo "warning: the contract tools did not install; the contract tests will skip" >&2
fi

# Sum every test binary's result into one closing line.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked --all-targets -- "$@" 2>&1 | tee "$log" || status=$?
awk '/^test result:/ { p += $4; f += $6 } END { printf "total: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
