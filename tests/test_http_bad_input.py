"""Bad input over HTTP: 4xx problem details naming field and rule, nothing stored,
never a 500, and no personal value in a response or a log line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.app.application import Ledger
from ledger.http import Limits
from tests.helpers import collect, consent
from tests.http_kit import Api, api_for, event_id

SECRET = "zoe.secret-person@example.fr"   # a personal value that must never leak
LIMITS = Limits(max_body_bytes=4096, max_events=3)


@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    with api_for(ledger, db_url, env, limits=LIMITS) as a:
        yield a


def raw_post(api: Api, body: bytes, content_type: str = "application/json") -> Any:
    return api.post("/v1/events", content=body, headers={"Content-Type": content_type})


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


@pytest.mark.parametrize("body", [b"{bad", b"[1,", b"", b'{"a":1}}', b"\xff\xfe\x00",
                                  b'{"x": NaN}', b"[" * 100_000 + b"]" * 100_000])
def test_malformed_json_is_400(api: Api, ledger: Ledger, body: bytes) -> None:
    head = ledger.head()
    r = raw_post(api, body[:LIMITS.max_body_bytes] if len(body) > 4096 else body)
    p = problem(r, 400)
    assert p["field"] == "body" and p["type"] == "urn:problem:ledger:invalid-json"
    assert any(w in p["rule"] for w in ("is not valid JSON", "nested", "UTF-8"))
    assert ledger.head() == head


def test_deep_nesting_within_the_limit_is_400() -> None:
    import asyncio

    from ledger.http.body import read_json
    from ledger.http.problems import Problem

    class FakeRequest:
        headers: ClassVar[dict[str, str]] = {"content-type": "application/json"}

        async def stream(self) -> Any:
            yield b"[" * 200_000 + b"]" * 200_000

    with pytest.raises(Problem) as caught:
        asyncio.run(read_json(FakeRequest(), 10**6))  # type: ignore[arg-type]
    assert caught.value.status == 400 and "nested" in caught.value.extra["rule"]


@pytest.mark.parametrize(("body", "field", "index"), [
    ('"a string"', "body", None),
    ("42", "body", None),
    ("null", "body", None),
    ("[]", "body", None),
    ('[{"type": "ConsentGiven"}, 3]', "subject", 0),
    ('[{"type": "BreachDetected", "occurred_at": "2024-05-01T10:00:00Z", "data": {'
     '"breach_id": "B1", "nature": ["availability"], "risk": "unlikely", "description": "x"}},'
     ' 3]', "event", 1),
    ('[{"type": "Nope", "occurred_at": "2024-05-01T10:00:00Z"}]', "type", 0),
    ('{"type": "ConsentGiven", "subject": "a@x.fr"}', "occurred_at", None),
    ('{"type": "ConsentGiven", "subject": "a@x.fr", "occurred_at": "yesterday"}',
     "occurred_at", None),
    ('{"type": "ConsentGiven", "subject": "a@x.fr", "occurred_at": "2024-05-01T10:00:00Z",'
     ' "data": {"purpose": 7, "method": "form"}}', "data.purpose", None),
    ('{"type": "ConsentGiven", "subject": "a@x.fr", "occurred_at": "2024-05-01T10:00:00Z",'
     ' "data": {"method": "form"}}', "data.purpose", None),
    ('{"type": "ConsentGiven", "subject": "a@x.fr", "occurred_at": "2024-05-01T10:00:00Z",'
     ' "colour": "blue"}', "(unknown key)", None),
    ('{"type": "ConsentGiven", "subject": "a@x.fr", "occurred_at": "2030-01-01T00:00:00Z",'
     ' "data": {"purpose": "recruitment", "method": "form"}}', "occurred_at", None),
    ('{"event_id": "nope", "type": "ConsentGiven", "subject": "a@x.fr",'
     ' "occurred_at": "2024-05-01T10:00:00Z"}', "event_id", None),
])
def test_bad_events_are_422_naming_the_field(api: Api, ledger: Ledger, body: str, field: str,
                                             index: int | None) -> None:
    head = ledger.head()
    p = problem(raw_post(api, body.encode()), 422)
    assert p["field"] == field, p
    assert p["rule"] and p["detail"].endswith(p["rule"])
    assert p.get("index") == index
    assert ledger.head() == head


def test_wrong_media_type_is_415(api: Api, ledger: Ledger) -> None:
    head = ledger.head()
    r = raw_post(api, b'{"type": "ConsentGiven"}', "application/x-www-form-urlencoded")
    assert problem(r, 415)["field"] == "Content-Type"
    assert ledger.head() == head


def test_oversized_bodies_are_413_before_parsing(api: Api, ledger: Ledger) -> None:
    head = ledger.head()
    big = b'{"x": "' + b"a" * 5000 + b'"}'
    p = problem(raw_post(api, big), 413)
    assert p["field"] == "body" and "4096" in p["rule"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
        yield b"["
        for _ in range(100):
            yield b'"' + b"a" * 100 + b'",'
        yield b"1]"

    r = api.post("/v1/events", content=chunks(), headers={"Content-Type": "application/json"})
    problem(r, 413)
    too_many = [{"event_id": event_id(), **consent(f"p{i}@example.fr")} for i in range(4)]
    p = problem(api.post("/v1/events", json=too_many), 413)
    assert "at most 3 events" in p["detail"]
    assert ledger.head() == head


def test_bad_parameters_and_routes(api: Api) -> None:
    problem(api.get("/v1/nowhere"), 404)
    problem(api.client.put("/v1/events", headers=api.headers("service")), 405)
    problem(raw_post(api, b"{}", "application/json; charset=utf-8"), 422)
    r = api.post("/v1/events", content=b"{}", headers={"Content-Type": "application/json",
                                                        "Content-Length": "abc"})
    assert r.status_code == 400


def test_no_personal_value_in_responses_or_logs(api: Api, ledger: Ledger,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bad = [
        {**consent(SECRET), "occurred_at": SECRET},
        {**consent(SECRET), "data": {"purpose": SECRET, "method": "form"}},
        {**consent(SECRET), SECRET.replace("@", "_"): 1},
        collect(SECRET, values={"email": SECRET, "phone": SECRET}),   # no consent: a rule
        {**consent(SECRET), "actor": "not-the-token"},
        {"type": SECRET, "subject": SECRET},
    ]
    texts = []
    for event in bad:
        r = api.post("/v1/events", json=[consent("ok@example.fr"), event])
        assert 400 <= r.status_code < 500, r.text
        texts.append(r.text)
    texts.append(raw_post(api, b'{"subject": "' + SECRET.encode() + b'",}').text)
    r = api.post(f"/v1/subjects/{SECRET}/erase", as_="dpo", json={"ground": SECRET})
    texts.append(r.text)
    r = api.post(f"/v1/subjects/{SECRET}/erase", as_="service")
    texts.append(r.text)
    for text in texts:
        assert SECRET not in text and "zoe" not in text
    # the server's log records (not the test client's own, which shows its URLs)
    logged = "\n".join(rec.getMessage() for rec in caplog.records
                       if not rec.name.startswith("httpx"))
    assert "/v1/subjects/{ref}/erase" in logged  # the access log shows the template
    assert "zoe" not in logged and SECRET not in logged


def test_access_log_names_route_status_and_actor(api: Api,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ledger.http.access")
    api.post("/v1/events", json=consent("a@example.fr"))
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "ledger.http.access"]
    assert any(line.startswith("POST /v1/events 201 ") and line.endswith("actor=crm")
               for line in lines), lines


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "subject", "occurred_at", "event_id", "actor", "data",
                         "purpose", "method", "x"]), inner, max_size=5),
    max_leaves=12))
def test_random_json_never_5xx(api: Api, ledger: Ledger, body: Any) -> None:
    head = ledger.head()
    r = api.post("/v1/events", json=body)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.headers["content-type"] == "application/problem+json"
        assert ledger.head() == head
