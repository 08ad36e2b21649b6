#!/usr/bin/env bash
# Applies the migrations embedded in the tokenward binary to $DATABASE_URL
# (`tokenward migrate`). Uses target/release/tokenward when it is newer than the
# sources, otherwise builds and runs it with `cargo run --release`. Extra
# arguments are passed to `tokenward migrate`.
#
# Environment:
#   DATABASE_URL      sqlite://PATH or postgres://... (default sqlite://data/tokenward.db)
#   CARGO_TARGET_DIR  where cargo builds (default target)
# Other TOKENWARD_* settings and .env are read by the binary itself.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DATABASE_URL="${DATABASE_URL:-sqlite://data/tokenward.db}"

# A SQLite file cannot be created in a directory that does not exist.
if [[ "$DATABASE_URL" == sqlite://* ]]; then
    db_path="${DATABASE_URL#sqlite://}"
    db_path="${db_path%%\?*}"
    if [[ -n "$db_path" && "$db_path" != ":memory:" ]]; then
        mkdir -p "$(dirname "$db_path")"
    fi
fi

echo "Applying migrations to $(sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#' <<<"$DATABASE_URL")"

binary="${CARGO_TARGET_DIR:-target}/release/tokenward"
sources=(src migrations Cargo.toml Cargo.lock build.rs)
existing_sources=()
for source in "${sources[@]}"; do
    [[ -e "$source" ]] && existing_sources+=("$source")
done

# The release binary is fresh when no source file was modified after it was built.
if [[ -x "$binary" ]] \
    && [[ -z "$(find "${existing_sources[@]}" -newer "$binary" -print -quit 2>/dev/null)" ]]; then
    exec "$binary" migrate "$@"
else
    exec cargo run --release --quiet -- migrate "$@"
fi
