"""The HTTP API through an HTTP client, on SQLite and PostgreSQL: routes, roles, tokens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from ledger.app.application import Ledger
from ledger.app.tokens import Tokens
from tests.helpers import collect, consent
from tests.http_kit import TOKEN_NAMES, Api, api_for, event_id


@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    with api_for(ledger, db_url, env) as a:
        yield a


def with_id(event: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": event_id(), **event}


# -- the role rules of the issue, written out (not read from the app's table) ----------
ROUTES: list[tuple[str, str, set[str]]] = [
    ("POST", "/v1/events", {"service", "dpo"}),
    ("POST", "/v1/subjects/x@example.fr/erase", {"dpo"}),
    ("GET", "/v1/verify", {"auditor", "dpo"}),
]


def call(api: Api, method: str, path: str, as_: str | None) -> Any:
    if method == "GET":
        return api.get(path, as_=as_)
    if path == "/v1/events":
        return api.post(path, as_=as_, json=with_id(consent("x@example.fr")))
    return api.post(path, as_=as_, json={"ground": "consent_withdrawn"})


@pytest.mark.parametrize(("method", "path", "allowed"), ROUTES)
def test_roles(api: Api, method: str, path: str, allowed: set[str]) -> None:
    # the erase needs something to erase, and comes last
    api.post("/v1/events", json=with_id(consent("x@example.fr")))
    for role in ("service", "auditor", "dpo"):
        r = call(api, method, path, role)
        if role in allowed:
            assert r.status_code in (200, 201), (role, r.text)
        else:
            assert r.status_code == 403, (role, r.text)
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json() == {"type": "about:blank", "title": "Forbidden", "status": 403,
                                "detail": "this token's role may not use this route"}


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in ROUTES])
@pytest.mark.parametrize("token", [None, "ldg_" + "A" * 43, "garbage", "revoked"])
def test_no_or_bad_token_is_401(api: Api, ledger: Ledger, method: str, path: str,
                                token: str | None) -> None:
    if token == "revoked":
        Tokens(ledger.store).revoke(TOKEN_NAMES["dpo"])
        token = api.tokens["dpo"]
    head = ledger.head()
    r = call(api, method, path, token)
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["detail"] == "a valid bearer token is required"
    assert ledger.head() == head  # nothing stored


def test_basic_scheme_is_not_a_bearer(api: Api) -> None:
    r = api.client.get("/v1/verify", headers={"Authorization": f"Basic {api.tokens['dpo']}"})
    assert r.status_code == 401


def test_health_needs_no_token(api: Api) -> None:
    r = api.get("/v1/health", as_=None)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_openapi_and_docs(api: Api) -> None:
    spec = api.get("/openapi.json", as_=None).json()
    assert {"/v1/events", "/v1/verify", "/v1/health", "/v1/subjects/{ref}/erase"} \
        <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "swagger" in api.get("/docs", as_=None).text.lower()


# -- appending -------------------------------------------------------------------------
def test_append_one_then_retry(api: Api, ledger: Ledger) -> None:
    ev = with_id(consent("a@example.fr", evidence="form-7"))
    first = api.post("/v1/events", json=ev)
    assert first.status_code == 201, first.text
    receipt = first.json()
    assert receipt["seq"] == 2 and receipt["event_id"] == ev["event_id"] and receipt["new"]
    again = api.post("/v1/events", json=ev)
    assert again.status_code == 200
    assert again.json() == {**receipt, "new": False}
    assert ledger.head() == (2, receipt["hash"])
    entry = ledger.show(2)
    assert entry is not None and entry["actor"] == TOKEN_NAMES["service"]
    assert entry["data"]["evidence"] == "form-7"


def test_batch_mixed_and_all_old(api: Api, ledger: Ledger) -> None:
    a = with_id(consent("a@example.fr"))
    b = with_id(consent("b@example.fr"))
    assert api.post("/v1/events", json=[a]).status_code == 201
    mixed = api.post("/v1/events", json=[a, b, with_id(collect("b@example.fr"))])
    assert mixed.status_code == 201
    receipts = mixed.json()
    assert [r["new"] for r in receipts] == [False, True, True]
    assert [r["seq"] for r in receipts] == [2, 3, 4]
    old = api.post("/v1/events", json=[b, a])
    assert old.status_code == 200
    assert [r["seq"] for r in old.json()] == [3, 2]
    assert ledger.head()[0] == 4


def test_batch_is_all_or_nothing(api: Api, ledger: Ledger) -> None:
    head = ledger.head()
    # the second event collects for a consent-based purpose without consent
    r = api.post("/v1/events", json=[with_id(consent("a@example.fr")),
                                     with_id(collect("b@example.fr"))])
    assert r.status_code == 422
    body = r.json()
    assert body["index"] == 1 and body["field"] == "data.purpose"
    assert body["type"] == "urn:problem:ledger:rule-violation"
    assert ledger.head() == head


def test_actor_is_the_token_name(api: Api, ledger: Ledger) -> None:
    ok = api.post("/v1/events", json={**with_id(consent("a@example.fr")),
                                      "actor": "crm:web-form"})
    assert ok.status_code == 201
    entry = ledger.show(ok.json()["seq"])
    assert entry is not None and entry["actor"] == "crm:web-form"
    head = ledger.head()
    for actor in ("someone-else", "crmx", "dpo-desk"):
        r = api.post("/v1/events", json=[with_id(consent("b@example.fr")),
                                         {**with_id(consent("c@example.fr")), "actor": actor}])
        assert r.status_code == 422 and r.json()["field"] == "actor"
        assert r.json()["index"] == 1
    assert ledger.head() == head


def test_dpo_may_append_too(api: Api, ledger: Ledger) -> None:
    r = api.post("/v1/events", as_="dpo", json=with_id(consent("a@example.fr")))
    assert r.status_code == 201
    entry = ledger.show(r.json()["seq"])
    assert entry is not None and entry["actor"] == "dpo-desk"


# -- erasure -----------------------------------------------------------------------------
def test_erase_and_retry(api: Api, ledger: Ledger) -> None:
    stored = api.post("/v1/events", json=[with_id(consent("a/b@example.fr")),
                                          with_id(collect("a/b@example.fr"))])
    assert stored.status_code == 201
    eid = event_id()
    path = "/v1/subjects/a%2Fb%40example.fr/erase"  # an identifier with a slash, encoded
    r = api.post(path, as_="dpo", json={"ground": "consent_withdrawn", "event_id": eid,
                                        "request_id": "REQ-1"})
    assert r.status_code == 201, r.text
    seq = r.json()["seq"]
    entry = ledger.show(seq)
    assert entry is not None and entry["type"] == "SubjectErased"
    assert entry["actor"] == "dpo-desk" and entry["data"]["request_id"] == "REQ-1"
    assert entry["subject"] == ledger.pseudonym("a/b@example.fr")
    values = [e["data"].get("values") for e in ledger.log("a/b@example.fr")]
    assert {"email": "[erased]", "last_name": "[erased]"} in values
    again = api.post(path, as_="dpo", json={"ground": "consent_withdrawn", "event_id": eid,
                                            "request_id": "REQ-1"})
    assert again.status_code == 200 and again.json()["seq"] == seq


def test_erase_default_ground_and_bad_fields(api: Api, ledger: Ledger) -> None:
    api.post("/v1/events", json=with_id(consent("a@example.fr")))
    r = api.post("/v1/subjects/a@example.fr/erase", as_="dpo", json={"ground": "whim"})
    assert r.status_code == 422 and r.json()["field"] == "ground"
    r = api.post("/v1/subjects/a@example.fr/erase", as_="dpo", json={"why": "x"})
    assert r.status_code == 422 and r.json()["field"] == "(unknown key)"
    r = api.post("/v1/subjects/a@example.fr/erase", as_="dpo")
    assert r.status_code == 201
    entry = ledger.show(r.json()["seq"])
    assert entry is not None and entry["data"]["ground"] == "no_longer_necessary"


# -- verification --------------------------------------------------------------------------
def test_verify(api: Api, ledger: Ledger) -> None:
    api.post("/v1/events", json=[with_id(consent("a@example.fr")),
                                 with_id(consent("b@example.fr"))])
    r = api.get("/v1/verify", as_="auditor")
    assert r.status_code == 200
    seq, head = ledger.head()
    assert r.json() == {"ok": True, "entries": seq, "head": head, "first_bad_seq": None,
                        "reason": None}


def test_verify_reports_a_broken_chain(api: Api, ledger: Ledger, db_url: str) -> None:
    api.post("/v1/events", json=[with_id(consent("a@example.fr")),
                                 with_id(consent("b@example.fr"))])
    _tamper_hash(ledger, db_url, seq=2)
    r = api.get("/v1/verify", as_="auditor")
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is False and body["first_bad_seq"] == 2 and body["entries"] == 1


def _tamper_hash(ledger: Ledger, db_url: str, seq: int) -> None:
    """Rewrite one stored hash behind the ledger's back (the triggers dropped first)."""
    t = ledger.store.tables
    if db_url.startswith("sqlite"):
        import sqlite3

        path = db_url[len("sqlite:///"):]
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TRIGGER ledger_events_no_update")
            conn.execute(f"UPDATE {t.events} SET hash=? WHERE originator_version=?",
                         ("0" * 64, seq))
        return
    import psycopg

    base, schema = db_url.split("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP TRIGGER ledger_events_append_only ON "{schema}".ledger_events')
        conn.execute(f'UPDATE "{schema}".ledger_events SET hash=%s WHERE '
                     "originator_version=%s", ("0" * 64, seq))


# -- tokens ---------------------------------------------------------------------------------
def test_tokens_keep_only_a_hash(api: Api, ledger: Ledger) -> None:
    listed = Tokens(ledger.store).list()
    assert {(t.name, t.role) for t in listed} == {(n, r) for r, n in TOKEN_NAMES.items()}
    dump = json.dumps([t.as_dict() for t in listed])
    rows = ledger.store.read(lambda tx: (tx.c.execute(f"SELECT * FROM {tx.t.tokens}"),
                                         tx.c.fetchall())[1])
    stored = json.dumps([[str(v) for v in dict(r).values()] for r in rows])
    for token in api.tokens.values():
        assert token not in stored and token not in dump
        assert token.startswith("ldg_") and len(token) == 47


def test_revoke_takes_effect_at_once(api: Api, ledger: Ledger) -> None:
    assert api.post("/v1/events", json=with_id(consent("a@example.fr"))).status_code == 201
    Tokens(ledger.store).revoke("crm")
    r = api.post("/v1/events", json=with_id(consent("b@example.fr")))
    assert r.status_code == 401
    # a new live token under the same name appends as the same actor
    token = Tokens(ledger.store).create("crm", "service")
    r = api.post("/v1/events", as_=token, json=with_id(consent("b@example.fr")))
    assert r.status_code == 201
    listed = [t for t in Tokens(ledger.store).list() if t.name == "crm"]
    assert sorted(t.revoked_at is None for t in listed) == [False, True]


# -- the database failing -----------------------------------------------------------------
def test_database_failure_is_503_and_stores_nothing(api: Api, ledger: Ledger,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.errors import StorageError

    served = api.client.app.state.ctx.ledger  # the app's own Ledger (another connection pool)

    def down(*_: Any, **__: Any) -> Any:
        raise StorageError("database error: server closed the connection")

    monkeypatch.setattr(served, "append_drafts", down)
    monkeypatch.setattr(served, "head", down)
    head = ledger.head()
    r = api.post("/v1/events", json=with_id(consent("a@example.fr")))
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()["detail"] == "the database is unavailable; retry later"
    assert api.get("/v1/health", as_=None).status_code == 503
    assert ledger.head() == head
