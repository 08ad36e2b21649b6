"""Schemathesis hooks for the pass over routes that end the caller's session.

Every generated case gets a session of its own: the auth provider logs the
admin in afresh (no caching), so a case that logs out, revokes its own token
or ends every session cannot leave the next case with a dead token.

Reads TOKENWARD_FUZZ_BASE, TOKENWARD_FUZZ_EMAIL and TOKENWARD_FUZZ_PASSWORD.
"""

import os

import requests
import schemathesis

BASE = os.environ["TOKENWARD_FUZZ_BASE"].rstrip("/")
EMAIL = os.environ["TOKENWARD_FUZZ_EMAIL"]
PASSWORD = os.environ["TOKENWARD_FUZZ_PASSWORD"]


@schemathesis.auth(refresh_interval=None)
class FreshSession:
    """A new login for every case."""

    def get(self, case, ctx):
        answer = requests.post(
            f"{BASE}/auth/login",
            json={"email": EMAIL, "password": PASSWORD, "device_name": "fuzz"},
            timeout=30,
        )
        if answer.status_code != 200:
            raise RuntimeError(f"re-login failed: {answer.status_code} {answer.text}")
        return answer.json()["access_token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
