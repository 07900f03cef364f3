"""The console's locks (issue 12): login by token, the session cookie, CSRF, the headers,
roles as on the API, the idle timeout, revocation, logout; on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.app.application import Ledger
from ledger.app.tokens import Tokens
from projections.console.security import CSP
from projections.console.sessions import SessionStore
from tests.console_kit import Web, console_app, csrf_of


@pytest.fixture
def web(ledger: Ledger, db_url: str, env: dict[str, str]) -> Web:
    with console_app(ledger, db_url, env) as w:
        yield w  # type: ignore[misc]


def test_a_page_without_a_session_sends_the_browser_to_the_login_form(web: Web) -> None:
    r = web.client.get("/console/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    page = web.get("/console/login")
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert 'type="password"' in page.text and "Connexion à la console" in page.text


def test_login_sets_a_locked_cookie_and_the_session_works(web: Web) -> None:
    r = web.login("dpo")
    assert r.status_code == 200 and "dpo-desk" in r.text
    cookie = next(h for h in r.history[0].headers.get_list("set-cookie")
                  if h.startswith("ledger_console="))
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/console"} <= flags
    assert "secure" not in flags  # plain HTTP here; over TLS the cookie is Secure
    assert web.tokens["dpo"] not in r.text  # the token is never shown back


def test_the_cookie_is_secure_over_tls(ledger: Ledger, db_url: str,
                                       env: dict[str, str]) -> None:
    with console_app(ledger, db_url, env) as web:
        web.client.base_url = "https://testserver"  # type: ignore[assignment]
        r = web.login("dpo")
        cookie = next(h for h in r.history[0].headers.get_list("set-cookie")
                      if h.startswith("ledger_console="))
        assert "secure" in cookie.lower()


@pytest.mark.parametrize(("token", "status", "text"), [
    ("ldg_" + "A" * 43, 401, "inconnu, mal saisi ou révoqué"),
    ("not a token", 401, "inconnu, mal saisi ou révoqué"),
    ("", 401, "inconnu, mal saisi ou révoqué"),
])
def test_a_wrong_token_is_refused_without_saying_which(web: Web, token: str, status: int,
                                                       text: str) -> None:
    page = web.get("/console/login")
    r = web.client.post("/console/login", data={"csrf": csrf_of(page.text), "token": token})
    assert r.status_code == status and text in r.text
    assert "ledger_console=" not in r.headers.get("set-cookie", "")


def test_a_service_token_has_no_console(web: Web) -> None:
    r = web.login("service")
    assert r.status_code == 403 and "(service)" in r.text
    assert web.client.get("/console/", follow_redirects=False).status_code == 303


def test_login_without_its_form_token_is_refused(web: Web) -> None:
    web.get("/console/login")
    r = web.client.post("/console/login", data={"token": web.tokens["dpo"]})
    assert r.status_code == 403
    assert web.client.get("/console/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("csrf", [None, "wrong", ""])
def test_a_form_without_its_csrf_token_is_refused(web: Web, csrf: str | None) -> None:
    web.login("dpo")
    r = web.post("/console/logout", csrf=csrf)
    assert r.status_code == 403 and "jeton de sécurité" in r.text
    assert web.get("/console/").status_code == 200  # still logged in: nothing was done


def test_a_form_from_another_origin_is_refused(web: Web) -> None:
    web.login("dpo")
    r = web.post("/console/logout", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert web.get("/console/").status_code == 200


def test_logout_ends_the_session(web: Web) -> None:
    web.login("auditor")
    old = web.client.cookies.get("ledger_console")
    r = web.post("/console/logout")
    assert r.status_code == 200 and r.url.path == "/console/login"
    assert web.client.get("/console/", follow_redirects=False).status_code == 303
    web.client.cookies.set("ledger_console", old or "", path="/console")  # replayed cookie
    assert web.client.get("/console/", follow_redirects=False).status_code == 303


def test_revoking_the_token_ends_its_sessions(web: Web, ledger: Ledger) -> None:
    web.login("dpo")
    assert web.get("/console/").status_code == 200
    Tokens(ledger.store).revoke("dpo-desk")
    assert web.client.get("/console/", follow_redirects=False).status_code == 303


def test_every_console_answer_carries_the_strict_headers(web: Web) -> None:
    for r in (web.get("/console/login"), web.get("/console/static/console.css"),
              web.get("/console/static/htmx.min.js")):
        assert r.status_code == 200
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"
    assert "'unsafe-inline'" not in CSP and "default-src 'none'" in CSP
    api = web.client.get("/v1/health")
    assert "content-security-policy" not in api.headers  # the API's answers are JSON


def test_pages_hold_no_inline_script_or_style(web: Web) -> None:
    web.login("dpo")
    for path in ("/console/login", "/console/"):
        html = web.get(path).text
        assert "<style" not in html and " style=" not in html
        assert "<script>" not in html and "<script " in html  # only src= scripts
        assert "http://" not in html.replace("http://testserver", "") \
            and "https://" not in html


def test_the_language_is_french_by_default_and_english_on_demand(web: Web) -> None:
    web.login("dpo")
    assert "Se déconnecter" in web.get("/console/").text
    r = web.post("/console/language", {"lang": "en", "next": "/console/"})
    assert r.status_code == 200 and '<html lang="en">' in r.text and "Log out" in r.text
    r = web.post("/console/language", {"lang": "de", "next": "/console/"})
    assert '<html lang="fr">' in r.text  # a language the console lacks: French


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/console/",
                                    "/v1/events", "/console/\\evil"])
def test_the_language_form_never_sends_the_browser_elsewhere(web: Web, target: str) -> None:
    web.login("dpo")
    r = web.post("/console/language", {"lang": "en", "next": target}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/"


def test_sessions_expire_when_idle_and_at_their_lifetime() -> None:
    now = [0]
    from datetime import UTC, datetime

    start = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    store = SessionStore(idle=timedelta(minutes=15), lifetime=timedelta(hours=8),
                         clock=lambda: start + timedelta(minutes=now[0]))
    s = store.open("ldg_x", "dpo-desk", "dpo")
    now[0] = 14
    assert store.get(s.id) is s          # 14 minutes idle: alive, clock restarted
    now[0] = 28
    assert store.get(s.id) is s
    now[0] = 44
    assert store.get(s.id) is None       # 16 minutes idle: gone
    s2 = store.open("ldg_x", "dpo-desk", "dpo")
    for minute in range(44 + 10, 44 + 8 * 60, 10):
        now[0] = minute
        assert store.get(s2.id) is s2
    now[0] = 44 + 8 * 60 + 1
    assert store.get(s2.id) is None      # past its lifetime, however busy
    assert store.get(None) is None and store.get("forged") is None and len(store) == 0


def test_idle_minutes_are_a_setting(ledger: Ledger, db_url: str, env: dict[str, str]) -> None:
    from ledger.errors import ConfigError

    with pytest.raises(ConfigError, match="LEDGER_CONSOLE_IDLE_MINUTES"), \
            console_app(ledger, db_url, {**env, "LEDGER_CONSOLE_IDLE_MINUTES": "0"}):
        pass


def test_the_shipped_htmx_is_the_pinned_release() -> None:
    """static/htmx.min.js is htmx 2.0.8 as published on npm (DECISIONS 99)."""
    import hashlib
    from importlib.resources import files

    data = files("projections.console").joinpath("static", "htmx.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == \
        "22283ef68cb7545914f0a88a1bdedc7256a703d1d580c1d255217d0a50d31313"
    assert b'version:"2.0.8"' in data


def test_the_navigation_marks_the_page_and_its_section(web: Web, ledger: Ledger) -> None:
    web.login("dpo")
    page = web.get("/console/overview").text
    assert 'href="/console/overview" aria-current="page"' in page
    sub = web.get(f"/console/person/{ledger.pseudonym('nobody@example.org')}").text
    assert 'href="/console/person" aria-current="true"' in sub  # a page of that section
    assert sub.count("aria-current") == 1


def test_a_console_path_that_is_no_page_is_a_page_saying_so(web: Web) -> None:
    r = web.get("/console/nope")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in r.text and r.headers["content-security-policy"] == CSP
    web.login("dpo")
    for path in ("/console/nope", "/console/registers/nope"):
        r = web.get(path)
        assert r.status_code == 404 and "Page introuvable" in r.text
        assert "Se déconnecter" in r.text  # in the console's frame
    r = web.client.put("/console/login")
    assert r.status_code == 405 and "Page introuvable" in r.text
    api = web.client.get("/v1/nope")  # the API keeps its problem details
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
