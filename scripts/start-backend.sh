#!/usr/bin/env bash
# Starts the tokenward server in the foreground (`cargo run --release -- serve`).
# Extra arguments are passed to `tokenward serve`. Every setting comes from the
# environment; the binary itself also loads .env when present.
#
# Environment (see the "Running" table in the API contract for the full list):
#   DATABASE_URL     sqlite://PATH or postgres://... (default sqlite://data/tokenward.db)
#   TOKENWARD_BIND   listen address (default 127.0.0.1:8080)
#   TOKENWARD_BOOTSTRAP_ADMIN_EMAIL / _PASSWORD   first admin, when no user exists
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Only for the messages below: the binary reads the environment and .env itself.
# Returns the value NAME has in the environment, else its last assignment in .env.
setting() {
    local name="$1" default="$2" value
    value="${!name:-}"
    if [[ -z "$value" && -f .env ]]; then
        value="$(sed -nE "s/^[[:space:]]*(export[[:space:]]+)?${name}[[:space:]]*=[[:space:]]*//p" .env \
            | tail -n 1 | sed -E "s/[[:space:]]+$//; s/^\"(.*)\"$/\\1/; s/^'(.*)'$/\\1/")"
    fi
    printf '%s\n' "${value:-$default}"
}

bind="$(setting TOKENWARD_BIND 127.0.0.1:8080)"
database_url="$(setting DATABASE_URL sqlite://data/tokenward.db)"

# A SQLite file cannot be created in a directory that does not exist.
if [[ "$database_url" == sqlite://* ]]; then
    db_path="${database_url#sqlite://}"
    db_path="${db_path%%\?*}"
    if [[ -n "$db_path" && "$db_path" != ":memory:" ]]; then
        mkdir -p "$(dirname "$db_path")"
    fi
fi

echo "tokenward will listen on http://${bind}"
echo "database: $(sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$database_url")"
echo "(building first if needed; stop with Ctrl-C)"

exec cargo run --release -- serve "$@"
