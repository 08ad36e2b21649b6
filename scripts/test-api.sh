#!/usr/bin/env bash
# Smoke test of a RUNNING tokenward server with curl: health, login, double
# validation, sessions, refresh rotation and reuse detection, logout and the
# error contract. Stops at the first failure (exit 1); prints "N passed, 0 failed"
# when everything passes. JSON is read with python3 (jq when python3 is absent).
#
# Usage: scripts/test-api.sh [BASE_URL]
# Environment:
#   TOKENWARD_URL             base URL when no argument is given (default http://127.0.0.1:8080)
#   TOKENWARD_SMOKE_EMAIL     account to log in with (no 2FA), else
#                             TOKENWARD_BOOTSTRAP_ADMIN_EMAIL
#   TOKENWARD_SMOKE_PASSWORD  its password, else TOKENWARD_BOOTSTRAP_ADMIN_PASSWORD
# Each run creates two sessions for the account and leaves both revoked.
set -euo pipefail

base_url="${1:-${TOKENWARD_URL:-http://127.0.0.1:8080}}"
base_url="${base_url%/}"
email="${TOKENWARD_SMOKE_EMAIL:-${TOKENWARD_BOOTSTRAP_ADMIN_EMAIL:-}}"
password="${TOKENWARD_SMOKE_PASSWORD:-${TOKENWARD_BOOTSTRAP_ADMIN_PASSWORD:-}}"

if [[ -z "$email" || -z "$password" ]]; then
    echo "error: set TOKENWARD_SMOKE_EMAIL and TOKENWARD_SMOKE_PASSWORD" >&2
    echo "       (or TOKENWARD_BOOTSTRAP_ADMIN_EMAIL and TOKENWARD_BOOTSTRAP_ADMIN_PASSWORD)" >&2
    exit 2
fi
command -v curl >/dev/null 2>&1 || { echo "error: curl is required" >&2; exit 2; }
if command -v python3 >/dev/null 2>&1; then
    json_tool=python3
elif command -v jq >/dev/null 2>&1; then
    json_tool=jq
else
    echo "error: python3 (or jq) is required to read JSON" >&2
    exit 2
fi

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT
body_file="$work_dir/body"      # last response body
request_file="$work_dir/request" # last request body
header_file="$work_dir/headers"  # request headers, so tokens never appear in `ps`

passed=0
status=""

# ---------------------------------------------------------------- JSON helpers

# json_get KEY [FILE]: prints a top-level field of a JSON object (strings raw,
# booleans as true/false); prints nothing when absent or when FILE is not JSON.
json_get() {
    local key="$1" file="${2:-$body_file}"
    if [[ "$json_tool" == python3 ]]; then
        python3 - "$key" "$file" <<'PY' 2>/dev/null || true
import json, sys
key, path = sys.argv[1], sys.argv[2]
try:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
except (OSError, ValueError):
    sys.exit(0)
value = doc.get(key) if isinstance(doc, dict) else None
if isinstance(value, bool):
    print("true" if value else "false")
elif isinstance(value, (str, int, float)):
    print(value)
PY
    else
        jq -r --arg key "$key" \
            'if type == "object" and (.[$key] | type) != "object" and (.[$key] | type) != "array"
             then .[$key] // empty | tostring else empty end' "$file" 2>/dev/null || true
    fi
}

# sessions_has_current ID: the body is an array holding session ID marked current.
sessions_has_current() {
    local id="$1"
    if [[ "$json_tool" == python3 ]]; then
        python3 - "$id" "$body_file" <<'PY' 2>/dev/null
import json, sys
sid, path = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    doc = json.load(f)
ok = isinstance(doc, list) and any(
    isinstance(s, dict) and str(s.get("id")) == sid and s.get("current") is True for s in doc
)
sys.exit(0 if ok else 1)
PY
    else
        jq -e --arg id "$id" \
            'type == "array" and any(.[]; (.id | tostring) == $id and .current == true)' \
            "$body_file" >/dev/null 2>&1
    fi
}

# write_login_body: the login request for the smoke account, JSON-escaped.
write_login_body() {
    if [[ "$json_tool" == python3 ]]; then
        SMOKE_EMAIL="$email" SMOKE_PASSWORD="$password" python3 -c '
import json, os
print(json.dumps({"email": os.environ["SMOKE_EMAIL"],
                  "password": os.environ["SMOKE_PASSWORD"],
                  "device_name": "test-api.sh"}))' >"$request_file"
    else
        SMOKE_EMAIL="$email" SMOKE_PASSWORD="$password" jq -n \
            '{email: env.SMOKE_EMAIL, password: env.SMOKE_PASSWORD, device_name: "test-api.sh"}' \
            >"$request_file"
    fi
}

write_refresh_body() {
    if [[ "$json_tool" == python3 ]]; then
        SMOKE_REFRESH="$1" python3 -c '
import json, os
print(json.dumps({"refresh_token": os.environ["SMOKE_REFRESH"]}))' >"$request_file"
    else
        SMOKE_REFRESH="$1" jq -n '{refresh_token: env.SMOKE_REFRESH}' >"$request_file"
    fi
}

# The last response body for a failure message, with every token value hidden.
redacted_body() {
    if [[ "$json_tool" == python3 ]]; then
        python3 - "$body_file" <<'PY' 2>/dev/null || head -c 300 "$body_file"
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    doc = json.load(f)
def hide(v):
    if isinstance(v, dict):
        return {k: "<redacted>" if "token" in k and isinstance(x, str) else hide(x) for k, x in v.items()}
    if isinstance(v, list):
        return [hide(x) for x in v]
    return v
print(json.dumps(hide(doc))[:500])
PY
    else
        jq -c 'walk(if type == "object" then with_entries(if (.key | test("token")) and (.value | type) == "string" then .value = "<redacted>" else . end) else . end)' \
            "$body_file" 2>/dev/null | head -c 500 || head -c 300 "$body_file"
    fi
}

# ------------------------------------------------------------- HTTP and results

# request METHOD PATH [TOKEN] [BODY_FILE]: sets $status; the body goes to $body_file.
request() {
    local method="$1" path="$2" token="${3:-}" data="${4:-}"
    : >"$header_file"
    [[ -n "$token" ]] && printf 'Authorization: Bearer %s\n' "$token" >>"$header_file"
    local args=(-sS --max-time 15 -o "$body_file" -w '%{http_code}' -X "$method"
        -H 'Accept: application/json' -H "@$header_file")
    if [[ -n "$data" ]]; then
        args+=(-H 'Content-Type: application/json' --data-binary "@$data")
    fi
    : >"$body_file"
    status="$(curl "${args[@]}" "$base_url$path" 2>"$work_dir/curl.err")" || {
        status="000"
        echo "       no HTTP response: $(head -n 1 "$work_dir/curl.err")"
    }
}

pass() {
    passed=$((passed + 1))
    printf 'PASS  %-58s %s\n' "$1" "$status"
}

# fail STEP WHY: reports and stops the run.
fail() {
    printf 'FAIL  %-58s %s\n' "$1" "$status"
    echo "       $2"
    [[ -s "$body_file" ]] && echo "       body: $(redacted_body)"
    echo
    echo "$passed passed, 1 failed"
    exit 1
}

# expect_status STEP CODE: the last response had status CODE.
expect_status() {
    [[ "$status" == "$2" ]] || fail "$1" "expected status $2, got $status"
}

# expect_error STEP CODE ERROR: status CODE with {"error": ERROR}.
expect_error() {
    expect_status "$1" "$2"
    local got
    got="$(json_get error)"
    [[ "$got" == "$3" ]] || fail "$1" "expected error \"$3\", got \"$got\""
    pass "$1"
}

# expect_token_response STEP: a 200 token response; sets access, refresh, session_id.
expect_token_response() {
    expect_status "$1" 200
    if [[ "$(json_get two_factor_required)" == "true" ]]; then
        fail "$1" "the account has 2FA enabled; use an account without it"
    fi
    access="$(json_get access_token)"
    refresh="$(json_get refresh_token)"
    session_id="$(json_get session_id)"
    [[ -n "$access" ]] || fail "$1" "no access_token"
    [[ -n "$refresh" ]] || fail "$1" "no refresh_token"
    [[ -n "$session_id" ]] || fail "$1" "no session_id"
    [[ "$(json_get token_type)" == "Bearer" ]] || fail "$1" "token_type is not \"Bearer\""
}

# ------------------------------------------------------------------------ steps

echo "tokenward smoke test against $base_url as $email"
echo

request GET /health/live
expect_status "GET /health/live" 200
pass "GET /health/live"

write_login_body
request POST /auth/login "" "$request_file"
expect_token_response "POST /auth/login"
pass "POST /auth/login"
first_access="$access"
first_refresh="$refresh"
first_session="$session_id"

request GET /auth/validate "$first_access"
expect_status "GET /auth/validate" 200
[[ "$(json_get valid)" == "true" ]] || fail "GET /auth/validate" "expected \"valid\": true"
[[ "$(json_get session_id)" == "$first_session" ]] \
    || fail "GET /auth/validate" "session_id differs from the login's"
pass "GET /auth/validate"

request GET /auth/me "$first_access"
expect_status "GET /auth/me" 200
me_email="$(json_get email)"
[[ "${me_email,,}" == "${email,,}" ]] || fail "GET /auth/me" "expected email $email, got \"$me_email\""
pass "GET /auth/me"

request GET /auth/sessions "$first_access"
expect_status "GET /auth/sessions" 200
sessions_has_current "$first_session" \
    || fail "GET /auth/sessions" "session $first_session is not listed as current"
pass "GET /auth/sessions lists the current session"

write_refresh_body "$first_refresh"
request POST /auth/refresh "" "$request_file"
expect_token_response "POST /auth/refresh"
[[ "$refresh" != "$first_refresh" ]] || fail "POST /auth/refresh" "the refresh token was not rotated"
[[ "$access" != "$first_access" ]] || fail "POST /auth/refresh" "the access token was not renewed"
[[ "$session_id" == "$first_session" ]] || fail "POST /auth/refresh" "the session changed"
pass "POST /auth/refresh rotates the pair"
second_access="$access"

write_refresh_body "$first_refresh"
request POST /auth/refresh "" "$request_file"
expect_error "POST /auth/refresh with the old token -> token_reused" 401 token_reused

request GET /auth/validate "$second_access"
expect_error "reuse revoked the session: new access -> token_revoked" 401 token_revoked

write_login_body
request POST /auth/login "" "$request_file"
expect_token_response "POST /auth/login (again)"
pass "POST /auth/login (again)"
third_access="$access"

request POST /auth/logout "$third_access"
expect_status "POST /auth/logout" 204
pass "POST /auth/logout"

request GET /auth/validate "$third_access"
expect_error "GET /auth/validate after logout -> token_revoked" 401 token_revoked

request GET /auth/validate
expect_error "GET /auth/validate without a token -> token_missing" 401 token_missing

printf '{"email": "%s", "password": ' "smoke@example.invalid" >"$request_file"
request POST /auth/login "" "$request_file"
expect_error "POST /auth/login with malformed JSON -> invalid_request" 400 invalid_request

echo
echo "$passed passed, 0 failed"
