"""Helpers of the HTTP API tests: an app over a test ledger, with one token per role."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi.testclient import TestClient

from ledger.app.application import Ledger
from ledger.app.tokens import ROLES, Tokens
from ledger.http import Limits, create_app
from ledger.http.app import RouteRegistrar

TOKEN_NAMES = {"service": "crm", "auditor": "audit-firm", "dpo": "dpo-desk"}


class Api:
    """A TestClient with a token per role: ``api.post("/v1/events", as_="service", json=…)``."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens

    def headers(self, as_: str | None) -> dict[str, str]:
        if as_ is None:
            return {}
        return {"Authorization": f"Bearer {self.tokens.get(as_, as_)}"}

    def get(self, path: str, *, as_: str | None = "dpo", **kw: Any) -> httpx.Response:
        return self.client.get(path, headers={**self.headers(as_), **kw.pop("headers", {})},
                               **kw)

    def post(self, path: str, *, as_: str | None = "service", **kw: Any) -> httpx.Response:
        return self.client.post(path, headers={**self.headers(as_), **kw.pop("headers", {})},
                                **kw)


def issue_tokens(ledger: Ledger) -> dict[str, str]:
    tokens = Tokens(ledger.store)
    return {role: tokens.create(TOKEN_NAMES[role], role) for role in ROLES}


@contextmanager
def api_for(ledger: Ledger, db_url: str, env: dict[str, str], *,
            limits: Limits | None = None,
            routes: Sequence[RouteRegistrar] | None = ()) -> Iterator[Api]:
    """The app over ``ledger``'s database (its clock too), its lifespan running."""
    tokens = issue_tokens(ledger)
    app = create_app(db_url, env=env, clock=ledger.clock, limits=limits, routes=routes)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, tokens)


def event_id() -> str:
    return str(uuid.uuid4())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(db_url: str, env: dict[str, str]) -> Iterator[str]:
    """A real ``ledger serve`` subprocess on loopback; yields its base URL."""
    port = free_port()
    child_env = {**os.environ, **env, "LEDGER_DATABASE_URL": db_url}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, "-m", "ledger.cli", "serve", "--port",
                                 str(port), "--no-access-log"], env=child_env,
                                stdout=subprocess.DEVNULL, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError("ledger serve exited: " + log.read().decode())
                try:
                    if httpx.get(base + "/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("ledger serve did not start within 60 s")
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=30)
