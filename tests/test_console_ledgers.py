"""The console of each ledger of a routing file, under /ledgers/NAME/console/: its own
sessions, its cookie scoped to its own path, a token of one ledger unknown to another."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from ledger.app.routing import load_routing
from ledger.http.ledgers import create_routed_app
from tests.console_kit import csrf_of
from tests.test_routing import _init_all, _routing


def _login(client: TestClient, name: str, token: str) -> int:
    page = client.get(f"/ledgers/{name}/console/login")
    assert page.status_code == 200
    r = client.post(f"/ledgers/{name}/console/login",
                    data={"csrf": csrf_of(page.text), "token": token})
    return r.status_code


def test_each_ledger_has_its_own_console(tmp_path: Path, db_url: str) -> None:
    path = _routing(tmp_path, db_url)
    tokens = _init_all(path)  # a DPO token of each ledger
    app = create_routed_app(load_routing(str(path)), plugins=())
    with TestClient(app, raise_server_exceptions=False, follow_redirects=True) as client:
        r = client.get("/ledgers/a/console/")
        assert r.url.path == "/ledgers/a/console/login"
        assert 'action="/ledgers/a/console/login"' in r.text
        assert 'href="/ledgers/a/console/static/console.css"' in r.text
        assert client.get("/ledgers/a/console/static/console.css").status_code == 200
        assert _login(client, "b", tokens["a"]) == 401  # a's token is unknown to b
        assert _login(client, "a", tokens["a"]) == 200
        cookie = next(c for c in client.cookies.jar if c.name == "ledger_console")
        assert cookie.path == "/ledgers/a/console"
        assert client.get("/ledgers/a/console/").url.path != "/ledgers/a/console/login"
        # b's console does not know a's session, even if the browser sent the cookie
        sid = cookie.value
        client.cookies.set("ledger_console", sid, path="/ledgers/b/console")
        r = client.get("/ledgers/b/console/")
        assert r.url.path == "/ledgers/b/console/login"


def test_every_link_and_form_of_a_ledger_stays_under_its_prefix(tmp_path: Path,
                                                                db_url: str) -> None:
    """Every page of ledger b's navigation links and posts only to /ledgers/b/… (route
    names are the same in every ledger's console: a link resolved in the wrong app
    would send the DPO to ledger a)."""
    import re

    path = _routing(tmp_path, db_url)
    tokens = _init_all(path)
    app = create_routed_app(load_routing(str(path)), plugins=())
    with TestClient(app, raise_server_exceptions=False, follow_redirects=True) as client:
        assert _login(client, "b", tokens["b"]) == 200
        home = client.get("/ledgers/b/console/")
        nav = re.search(r"<nav .*?</nav>", home.text, re.S)
        assert nav, "the DPO's home has no navigation"
        pages = {"/ledgers/b/console/", *re.findall(r'href="([^"]+)"', nav.group(0))}
        assert len(pages) >= 2, pages  # the navigation lists the DPO's pages
        for page in sorted(pages):
            r = client.get(page)
            assert r.status_code == 200, (page, r.status_code)
            assert r.url.path.startswith("/ledgers/b/console/"), (page, r.url.path)
            targets = re.findall(r'(?:href|action|src)="(/[^"]*)"', r.text)
            assert targets and all(t.startswith("/ledgers/b/") for t in targets), \
                (page, [t for t in targets if not t.startswith("/ledgers/b/")])
