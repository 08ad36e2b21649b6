#!/usr/bin/env bash
# Runs the cleanup job once against DATABASE_URL (`tokenward cleanup`) and exits:
# deletes tokens expired for longer than TOKENWARD_TOKEN_RETENTION_HOURS, marks
# the other expired ones, deletes ended sessions with no tokens left and audit
# events older than TOKENWARD_AUDIT_RETENTION_DAYS, in batches of
# TOKENWARD_CLEANUP_BATCH_SIZE rows. On PostgreSQL a run that finds another
# instance cleaning exits 0 without doing anything.
#
# Usage: scripts/cleanup.sh [--config FILE]
# Environment:
#   TOKENWARD_BIN  the tokenward binary (default: target/release/tokenward, then
#                  tokenward on PATH, else it is built with cargo --release)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin="${TOKENWARD_BIN:-}"
if [[ -z "$bin" ]]; then
    if [[ -x target/release/tokenward ]]; then
        bin=target/release/tokenward
    elif command -v tokenward >/dev/null 2>&1; then
        bin="$(command -v tokenward)"
    else
        echo "building tokenward (release)..." >&2
        cargo build --release --locked --bin tokenward >&2
        bin=target/release/tokenward
    fi
fi

exec "$bin" "$@" cleanup
