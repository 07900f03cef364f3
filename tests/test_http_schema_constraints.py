"""The OpenAPI schema states what the server checks (issue 13 item 12).

The patterns of ledger.http.params against the validators they describe, the
constraints as published in /openapi.json, and the answers the schema documents:
404 beyond the ledger, for an unpublished purpose or a ROPA before any policy; 422
for an undeclared query parameter.  (tests/test_http_schemathesis.py fuzzes the
whole API against the schema.)
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.app.application import Ledger
from ledger.domain.events import MAX_SUBJECT, OUT_OF_RANGE, _check_text, parse_rfc3339
from ledger.errors import InputError
from ledger.http.params import ACTOR, DATE_TIME, REF, TIME, subject_schema, text_schema
from ledger.trust.canonical import format_time, parse_time
from tests.http_kit import Api, api_for


def accepted_text(value: str, limit: int = MAX_SUBJECT) -> bool:
    try:
        _check_text(value, "subject", limit)
    except InputError:
        return False
    return True


def test_the_text_pattern_is_the_text_rule_on_every_code_point() -> None:
    pattern = re.compile(subject_schema()["pattern"])
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # no lone surrogate is valid JSON text or UTF-8
        ch = chr(cp)
        for text in (f"a{ch}", ch):
            assert bool(pattern.search(text)) == accepted_text(text), f"U+{cp:04X}"


def test_text_schemas_bound_the_length() -> None:
    assert subject_schema()["maxLength"] == MAX_SUBJECT
    assert text_schema()["maxLength"] == 2000
    assert text_schema()["minLength"] == 1


@settings(max_examples=300, deadline=None)
@given(st.from_regex(DATE_TIME, fullmatch=True))
def test_every_date_time_of_the_pattern_is_accepted(text: str) -> None:
    try:
        parse_rfc3339(text, "occurred_at")
    except InputError as exc:  # the only rule a pattern on local text cannot state
        assert exc.rule == OUT_OF_RANGE, text


@pytest.mark.parametrize("text", [
    "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
    "2024-06-01T24:00:00Z", "2024-06-01T12:60:00Z", "0000-01-01T00:00:00Z",
    "2024-06-01T12:00:00", "2024-06-01 12:00:00Z", "2024-06-01"])
def test_what_the_pattern_refuses_the_server_refuses(text: str) -> None:
    assert not re.match(DATE_TIME, text)
    with pytest.raises(InputError):
        parse_rfc3339(text, "occurred_at")


def test_leap_days_and_early_years() -> None:
    for text in ("2024-02-29", "2000-02-29", "0800-02-29", "0004-02-29"):
        assert re.match(TIME, text), text
    for text in ("2023-02-29", "1900-02-29", "0000-02-29", "0100-02-29"):
        assert not re.match(TIME, text), text
    # years before 1000 keep four digits (strftime's %Y did not pad them)
    moment = parse_rfc3339("0800-02-29T22:28:11Z", "at")
    assert format_time(moment) == "0800-02-29T22:28:11.000000Z"
    assert parse_time(format_time(moment)) == moment
    assert format_time(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000000Z"
    with pytest.raises(InputError, match="years 0001-9999"):
        parse_rfc3339("0001-01-01T00:00:00+01:00", "occurred_at")


def test_actor_and_ref_patterns_are_the_events_ones() -> None:
    assert re.match(ACTOR, "crm:batch-7@eu")
    assert not re.match(ACTOR, "-crm") and not re.match(ACTOR, "a" * 129)
    assert re.match(REF, "REQ-2024/17") and not re.match(REF, "req@x")


# -- the published schema ---------------------------------------------------------------

@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    with api_for(ledger, db_url, env, routes=None) as a:
        yield a


def parameters(api: Api, method: str, path: str) -> dict[str, dict[str, object]]:
    op = api.client.get("/openapi.json").json()["paths"][path][method]
    return {p["name"]: p["schema"] for p in op.get("parameters", [])}


def test_the_schema_publishes_the_constraints(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    retention = parameters(api, "get", "/v1/retention")
    assert retention["status"]["enum"] == ["active", "due", "overdue", "held", "erased",
                                           "anonymised"]
    for name in ("as_of", "known_at", "at", "due_before"):
        assert retention[name]["pattern"] == TIME, name
    accesses = parameters(api, "get", "/v1/accesses")
    assert accesses["actor"]["pattern"] == ACTOR
    for name in ("from", "to"):
        assert accesses[name]["pattern"] == TIME
        assert parameters(api, "get", "/v1/consents")[name]["pattern"] == TIME
    export = parameters(api, "get", "/v1/subjects/{ref}/export")
    assert export["ref"]["pattern"] == subject_schema()["pattern"]
    assert export["Ledger-Access-Reason"]["maxLength"] == 2000
    assert parameters(api, "get", "/v1/proofs/inclusion/{seq}")["seq"]["minimum"] == 1
    for name in ("old", "new"):
        schema = parameters(api, "get", "/v1/proofs/consistency")[name]
        assert (schema.get("minimum") or schema["anyOf"][0]["minimum"]) == 1
    for path in ("/v1/proofs/inclusion/{seq}", "/v1/proofs/consistency"):
        assert "404" in spec["paths"][path]["get"]["responses"]
    erase = spec["paths"]["/v1/subjects/{ref}/erase"]["post"]
    body = erase["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert body["request_id"]["pattern"] == REF
    assert body["occurred_at"]["pattern"] == DATE_TIME
    assert body["event_id"]["format"] == "uuid"


# -- the answers it documents ------------------------------------------------------------

def test_an_undeclared_query_parameter_is_refused_without_echo(api: Api) -> None:
    r = api.get("/v1/breaches?as-of=2024-06-01")  # misspelt: must not answer for now
    assert r.status_code == 422
    assert r.json()["field"] == "(unknown key)"
    assert "as-of" not in r.text and "as_of" in r.json()["rule"]
    assert api.get("/v1/breaches?as_of=2024-06-01").status_code == 200


def test_ledger_state_answers_404(api: Api) -> None:
    r = api.get("/v1/consents", params={"purpose": "no_such_purpose"})
    assert r.status_code == 404 and r.json()["field"] == "purpose"
    r = api.get("/v1/ropa", params={"as_of": "1999-01-01T00:00:00Z"})
    assert r.status_code == 404 and r.json()["field"] == "as_of"
    assert api.get("/v1/ropa").status_code == 200


def test_what_the_schema_forbids_is_refused(api: Api) -> None:
    assert api.get("/v1/accesses", params={"actor": "-x"}).json()["field"] == "actor"
    assert api.get("/v1/accesses", params={"actor": "crm:7"}).status_code == 200
    r = api.get("/v1/subjects/a%E2%80%AEb/consent")  # U+202E in a subject reference
    assert r.status_code == 422 and r.json()["field"] == "subject"
    r = api.get("/v1/accesses", params={"subject": "a\u202eb"})
    assert r.status_code == 422 and r.json()["field"] == "subject"
    r = api.get("/v1/retention", params={"status": "late"})
    assert r.status_code == 422 and r.json()["field"] == "status"
    r = api.get("/v1/breaches", params={"as_of": "0001-01-01T00:00:00+01:00"})
    assert r.status_code == 422 and r.json()["rule"] == OUT_OF_RANGE
