"""What the console's tests share: the app with a token per role and a client that logs in
through the login form; a real ``ledger serve`` and a headless Chromium that visits it,
records every request that leaves the server's origin and every console message, and runs
axe-core (the accessibility engine, shipped by ``axe-playwright-python``).

Chromium comes from Debian (scripts/setup-browser, run by scripts/test under CI=true);
Playwright drives it (never ``playwright install``).  Without it the browser tests are
skipped locally and FAIL under CI=true.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from ledger.app.application import Ledger
from ledger.http import create_app
from tests.http_kit import issue_tokens, served

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
CSRF = re.compile(r'name="csrf" value="([^"]*)"')
SERIOUS = ("serious", "critical")
DOCS = Path(__file__).resolve().parent.parent / "docs" / "console"


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Web:
    """A TestClient on the console: ``web.login("dpo")``, ``web.get``, ``web.post``."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens
        self.csrf = ""

    def login(self, role: str) -> httpx.Response:
        """Log in through the form (a token of ``role``); the session's cookie is kept."""
        page = self.client.get("/console/login")
        r = self.client.post("/console/login", data={"csrf": csrf_of(page.text),
                                                     "token": self.tokens[role]})
        if r.status_code == 200 and "csrf" in r.text:
            self.csrf = csrf_of(r.text)
        return r

    def get(self, path: str, **kw: Any) -> httpx.Response:
        r = self.client.get(path, **kw)
        if r.status_code == 200 and 'name="csrf"' in r.text:
            self.csrf = csrf_of(r.text)
        return r

    def post(self, path: str, data: dict[str, Any] | None = None, *,
             csrf: str | None = "session", **kw: Any) -> httpx.Response:
        """A form POST; ``csrf="session"`` (default) adds the session's token, ``None``
        sends none, any other string sends that."""
        fields = dict(data or {})
        if csrf == "session":
            if not self.csrf:
                self.get("/console/")
            fields["csrf"] = self.csrf
        elif csrf is not None:
            fields["csrf"] = csrf
        return self.client.post(path, data=fields, **kw)


@contextmanager
def console_app(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Web]:
    """The app over ``ledger``'s database (its clock too), with the console, running."""
    tokens = issue_tokens(ledger)
    app = create_app(db_url, env=env, clock=ledger.clock)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=True) as client:
        yield Web(client, tokens)


# -- the browser ---------------------------------------------------------------------------
def need_browser() -> None:
    if Path(CHROMIUM).is_file():
        return
    why = "chromium is not installed (scripts/setup-browser installs it)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(why + " (CI=true: the browser tests must run)")
    pytest.skip(why)


@pytest.fixture
def browser() -> Iterator[Any]:
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@contextmanager
def live_console(ledger: Ledger, db_url: str, env: dict[str, str]) \
        -> Iterator[tuple[str, dict[str, str]]]:
    """A real ``ledger serve`` on ``ledger``'s database: its base URL and a token per role."""
    tokens = issue_tokens(ledger)
    with served(db_url, env) as base:
        yield base, tokens


@contextmanager
def demo_site(ledger: Ledger, db_url: str, env: dict[str, str], folder: Path) \
        -> Iterator[tuple[str, dict[str, str]]]:
    """The demo's day in ``ledger``, served by a real ``ledger serve``: (base URL, tokens)."""
    from tests.inquiry_kit import fill

    fill(ledger, folder)
    with live_console(ledger, db_url, env) as served_site:
        yield served_site


class Visit:
    """One browser context on the console: what it requested off the origin, what the
    page's console said, and axe-core's verdict."""

    def __init__(self, browser: Any, base: str, tokens: dict[str, str], *,
                 javascript: bool = True) -> None:
        self.base = base
        self.tokens = tokens
        self.context = browser.new_context(viewport={"width": 1280, "height": 900},
                                           locale="fr-FR", java_script_enabled=javascript)
        self.page = self.context.new_page()
        self.off_origin: list[str] = []
        self.console_errors: list[str] = []
        origin = urlsplit(base)
        self.page.on("request", lambda req: self._request(req.url, origin))
        self.page.on("console", lambda msg: self.console_errors.append(msg.text)
                     if msg.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))

    def _request(self, url: str, origin: Any) -> None:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
            self.off_origin.append(url)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, role: str) -> None:
        self.goto("/console/login")
        self.page.fill("#token", self.tokens[role])
        self.page.click("button[type=submit].primary")
        self.page.wait_for_url(lambda url: "/console/login" not in url)

    def assert_clean(self) -> None:
        """The page left nothing to say: no request off the origin, no console error
        (a CSP violation is one), no serious or critical accessibility violation."""
        assert self.off_origin == []
        assert self.console_errors == []
        assert self.axe() == []

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the page as it is now."""
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page)
        return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                 "nodes": [n["target"] for n in v["nodes"]][:5]}
                for v in results.response["violations"] if v["impact"] in SERIOUS]

    def screenshot(self, name: str) -> bytes:
        """The page as a person sees it; written to docs/console/NAME.png (README, docs)
        only when ``LEDGER_SCREENSHOTS=1`` (the tests never write into the checkout)."""
        png: bytes = self.page.screenshot(full_page=False)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("LEDGER_SCREENSHOTS") == "1":
            DOCS.mkdir(parents=True, exist_ok=True)
            (DOCS / f"{name}.png").write_bytes(png)
        return png

    def close(self) -> None:
        self.context.close()
