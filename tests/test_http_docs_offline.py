"""``/docs`` works offline (issue 12 item 3), on SQLite and PostgreSQL: its page names
no other origin, its assets are served by the app, and in a real browser (headless
Chromium, Playwright) the operations appear with no request leaving the server's origin.

Without a browser the browser test is skipped locally and FAILS under CI=true (as in
tests/test_inquiry_browser.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ledger.app.application import Ledger
from ledger.http.docs_assets import ASSETS
from tests.http_kit import Api, api_for, served

ABSOLUTE = re.compile(r"https?://|//[A-Za-z0-9]", re.IGNORECASE)


@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    with api_for(ledger, db_url, env) as a:
        yield a


def test_docs_page_names_no_other_origin(api: Api) -> None:
    r = api.get("/docs", as_=None)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert ABSOLUTE.search(r.text) is None, ABSOLUTE.findall(r.text)
    links = re.findall(r'(?:href|src)="([^"]+)"', r.text)
    assert sorted(links) == ["/docs/static/favicon.png", "/docs/static/swagger-ui-bundle.js",
                             "/docs/static/swagger-ui.css"]
    assert "url: '/openapi.json'" in r.text
    assert '"validatorUrl": null' in r.text  # no badge fetched from swagger.io


@pytest.mark.parametrize(("name", "media_type"), [
    ("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"),
    ("favicon.png", "image/png")])
def test_docs_assets_are_served_with_their_type(api: Api, name: str, media_type: str) -> None:
    r = api.get(f"/docs/static/{name}", as_=None)
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == media_type
    assert len(r.content) > 1000
    if name == "favicon.png":
        assert r.content.startswith(b"\x89PNG")
    elif name.endswith(".js"):
        assert b"SwaggerUIBundle" in r.content


def test_only_the_listed_assets_are_served(api: Api) -> None:
    assert set(ASSETS) == {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}
    for name in ("redoc.standalone.js", "..%2F__init__.py", "core.py", "x.js"):
        r = api.get(f"/docs/static/{name}", as_=None)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert "/docs/static/{name}" not in api.get("/openapi.json", as_=None).json()["paths"]


# -- in a real browser (the `browser` fixture: tests/console_kit.py, through conftest) ---
def test_docs_render_in_a_browser_without_leaving_the_origin(
        browser: Any, ledger: Ledger, db_url: str, env: dict[str, str]) -> None:
    with served(db_url, env) as base:
        operations = sum(len(methods) for methods in
                         httpx.get(base + "/openapi.json", timeout=10).json()["paths"].values())
        page = browser.new_page()
        requests: list[str] = []
        errors: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        # anything aimed elsewhere is recorded above, and refused here
        page.route("**/*", lambda route: route.continue_()
                   if route.request.url.startswith(base + "/") else route.abort())
        page.goto(base + "/docs")
        page.wait_for_selector(".opblock", timeout=30_000)
        page.wait_for_load_state("networkidle")
        shown = page.locator(".opblock").count()
        title = page.title()
        page.close()
    assert errors == []
    assert shown == operations > 10
    assert title == "Personal-data ledger - Swagger UI"
    outside = [u for u in requests if not u.startswith(base + "/")]
    assert outside == []
    assert {base + "/docs", base + "/docs/static/swagger-ui-bundle.js",
            base + "/docs/static/swagger-ui.css", base + "/openapi.json"} <= set(requests)
