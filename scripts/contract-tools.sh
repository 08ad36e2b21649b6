#!/usr/bin/env bash
# Installs the Python tools that hold the OpenAPI document to the server, in a
# virtual environment at target/contract-tools (pinned versions):
#   schemathesis           fuzzes the running server against /api-docs/openapi.json
#   openapi-spec-validator checks the document is valid OpenAPI 3.1
#   openapi-python-client  generates a client from it (a throwaway directory)
#   mypy                   type-checks the generated client and the flow using it
# The tests in tests/api/contract.rs find the tools there (or through
# TOKENWARD_CONTRACT_TOOLS). Running this again is cheap when all is installed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv="${TOKENWARD_CONTRACT_TOOLS:-target/contract-tools}"
pins=(
    "schemathesis==4.32.5"
    "openapi-spec-validator==0.9.0"
    "openapi-python-client==0.29.1"
    "mypy==2.4.1"
)

command -v python3 >/dev/null 2>&1 || { echo "error: python3 is not installed" >&2; exit 1; }
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if "$venv/bin/python" - "${pins[@]}" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, wanted = pin.split("==")
    try:
        if version(name) != wanted:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
then
    echo "contract tools present in $venv"
else
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]}"
    echo "contract tools installed in $venv"
fi
