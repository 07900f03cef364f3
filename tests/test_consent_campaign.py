"""The campaign query — every choice made for a purpose in a time range, with counts —
through the Reader, the ``ledger consent --purpose`` command and ``GET /v1/consents``,
on both databases."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.app.application import Ledger
from ledger.errors import InputError
from ledger.http.params import TIME
from projections.queries import Reader
from tests.conftest import Clock
from tests.http_kit import Api, api_for

LEDGER = str(Path(sys.executable).with_name("ledger"))
PEOPLE = {"ana": "ana@example.fr", "ben": "ben@example.fr", "chloe": "chloe@example.fr",
          "dan": "dan@example.fr"}
SECRET = "click from 198.51.100.23 at booth 7"
TEXT = "Ce site utilise des cookies publicitaires. Acceptez-vous ?"


def ev(type_: str, who: str | None, at: str, **data: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type_, "occurred_at": at, "data": data}
    if who is not None:
        out["subject"] = PEOPLE[who]
    return out


def choice(type_: str, who: str, at: str, purpose: str = "cookies_advertising",
           **data: Any) -> dict[str, Any]:
    return ev(type_, who, at, purpose=purpose, method="banner", **data)


def campaign_events() -> list[dict[str, Any]]:
    """A banner campaign in March 2024 for advertising cookies, with choices around it."""
    return [
        ev("NoticePublished", None, "2024-02-28T12:00:00Z", notice_id="ads-banner/2024-03",
           kind="banner", language="fr", text=TEXT),
        choice("ConsentGiven", "ana", "2024-02-29T23:59:59Z"),  # before the range
        choice("ConsentGiven", "ana", "2024-03-01T00:00:00Z", notice_id="ads-banner/2024-03",
               evidence=SECRET),  # first instant of the range
        choice("ConsentRefused", "ben", "2024-03-05T10:00:00Z",
               notice_id="ads-banner/2024-03", evidence=SECRET),
        choice("ConsentGiven", "chloe", "2024-03-10T10:00:00Z"),
        choice("ConsentGiven", "dan", "2024-03-10T11:00:00Z", purpose="cookies_audience"),
        choice("ConsentWithdrawn", "chloe", "2024-03-31T23:59:59.999999Z", evidence=SECRET),
        choice("ConsentRefused", "dan", "2024-04-01T00:00:00Z"),  # after the range
    ]


@pytest.fixture
def filled(ledger: Ledger, clock: Clock) -> Ledger:
    clock.now = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    ledger.append(campaign_events())
    return ledger


@pytest.fixture
def reader(filled: Ledger, env: dict[str, str]) -> Iterator[Reader]:
    r = Reader(filled.url or "", filled.name, env=env)
    yield r
    r.close()


MARCH = {"start": "2024-03-01T00:00:00.000000Z", "end": "2024-03-31T23:59:59.999999Z"}


def test_campaign_counts_and_rows(reader: Reader, filled: Ledger) -> None:
    doc = reader.consent_campaign("cookies_advertising", **MARCH)
    assert doc["counts"] == {"given": 2, "refused": 1, "withdrawn": 1}
    assert doc["total"] == 4 and doc["subjects"] == 3
    rows = doc["choices"]
    pseudonyms = {k: filled.pseudonym(v) for k, v in PEOPLE.items()}
    assert [(r["choice"], r["subject"]) for r in rows] == [
        ("given", pseudonyms["ana"]), ("refused", pseudonyms["ben"]),
        ("given", pseudonyms["chloe"]), ("withdrawn", pseudonyms["chloe"])]
    assert rows[0]["occurred_at"] == MARCH["start"] and rows[-1]["occurred_at"] == MARCH["end"]
    assert [r["notice_id"] for r in rows] == ["ads-banner/2024-03"] * 2 + [None, None]
    assert rows[0]["notice_digest"] == rows[1]["notice_digest"] and \
        len(rows[0]["notice_digest"]) == 64
    assert rows[0]["expires_at"] is not None and rows[1]["expires_at"] is None
    entries = {r.seq: r.hash for r in filled.store.entries()}
    assert all(entries[r["seq"]] == r["hash"] for r in rows)
    assert {r["method"] for r in rows} == {"banner"}
    text = json.dumps(doc)
    assert SECRET not in text and not any(p in text for p in PEOPLE.values())


def test_campaign_range_bounds_known_at_and_errors(reader: Reader) -> None:
    everything = reader.consent_campaign("cookies_advertising")
    assert everything["total"] == 6 and everything["from"] is None
    after = reader.consent_campaign("cookies_advertising", start="2024-03-31T23:59:59.999999Z")
    assert [r["choice"] for r in after["choices"]] == ["withdrawn", "refused"]
    known = reader.consent_campaign("cookies_advertising", known_at="2020-01-01T00:00:00Z")
    assert known["total"] == 0 and known["counts"] == {"given": 0, "refused": 0,
                                                        "withdrawn": 0}
    with pytest.raises(InputError) as err:
        reader.consent_campaign("cookies_advertising", start=MARCH["end"], end=MARCH["start"])
    assert err.value.field == "from"
    with pytest.raises(InputError) as err:
        reader.consent_campaign("no_such_purpose")
    assert err.value.field == "purpose" and "published policy" in err.value.rule
    with pytest.raises(InputError) as err:
        reader.consent_campaign("Bad-Purpose")
    assert err.value.field == "purpose"


# -- the command ---------------------------------------------------------------------------
def run(env: dict[str, str], *args: str, code: int = 0,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([LEDGER, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False, input=stdin)
    assert done.returncode == code, (args, done.stdout[-1500:], done.stderr[-1500:])
    return done


def test_consent_command_campaign_and_notice(cli_env: dict[str, str]) -> None:
    run(cli_env, "init")
    run(cli_env, "policy", "publish", "bundled")
    run(cli_env, "append", "-",
        stdin="".join(json.dumps(e) + "\n" for e in campaign_events()))
    # exact UTC bounds (a bare date is a day in the policy's zone, Paris: see
    # tests/test_projections_cli_output.py)
    doc = json.loads(run(cli_env, "consent", "--purpose", "cookies_advertising", "--from",
                         MARCH["start"], "--to", MARCH["end"], "--json").stdout)
    assert doc["counts"] == {"given": 2, "refused": 1, "withdrawn": 1}
    assert doc["from"] == MARCH["start"] and doc["to"] == MARCH["end"]
    text = run(cli_env, "consent", "--purpose", "cookies_advertising", "--from",
               MARCH["start"], "--to", MARCH["end"]).stdout
    assert "4 choices by 3 subjects; 2 given, 1 refused, 1 withdrawn" in text
    assert "ads-banner/2024-03" in text and SECRET not in text  # the NOTICE column
    # the subject form shows the text the person saw
    human = run(cli_env, "consent", PEOPLE["ben"], "--as-of", "2024-03-06").stdout
    assert "saw notice ads-banner/2024-03" in human and TEXT in human
    for args, named in ((("consent",), "SUBJECT"),
                        (("consent", PEOPLE["ben"], "--purpose", "cookies_advertising"),
                         "SUBJECT"),
                        (("consent", PEOPLE["ben"], "--from", "2024-03-01"), "--from"),
                        (("consent", "--purpose", "cookies_advertising", "--as-of",
                          "2024-03-01"), "--as-of"),
                        (("consent", "--purpose", "cookies_advertising", "--from",
                          "March"), "--from"),
                        (("consent", "--purpose", "cookies_advertising", "--from",
                          "2024-04-01", "--to", "2024-03-01"), "--from"),
                        (("consent", "--purpose", "nope"), "--purpose")):
        bad = run(cli_env, *args, code=2)
        assert f"error: {named}" in bad.stderr, bad.stderr


# -- over HTTP ----------------------------------------------------------------------------
@pytest.fixture
def api(filled: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    with api_for(filled, db_url, env, routes=None) as a:  # None: the entry points
        yield a


def test_http_route_answers_as_the_reader(api: Api, reader: Reader) -> None:
    params = {"purpose": "cookies_advertising", "from": MARCH["start"], "to": MARCH["end"]}
    for role, code in (("dpo", 200), ("service", 403), ("auditor", 403), (None, 401)):
        assert api.get("/v1/consents", as_=role, params=params).status_code == code, role
    r = api.get("/v1/consents", params=params)
    assert r.json() == reader.consent_campaign("cookies_advertising", **MARCH)
    r = api.get("/v1/consents", params={**params, "known_at": "2020-01-01T00:00:00Z"})
    assert r.status_code == 200 and r.json()["total"] == 0
    for bad, field in (({"purpose": "Bad-Id"}, "purpose"), ({"from": "March"}, "from"),
                       ({"to": "2024-02-30"}, "to"), ({"from": "2024-04-02"}, "from")):
        r = api.get("/v1/consents", params={**params, **bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["field"] == field, r.text
    # well formed, but no published policy has it: not found (docs/API.md)
    r = api.get("/v1/consents", params={**params, "purpose": "nope"})
    assert r.status_code == 404 and r.json()["field"] == "purpose", r.text
    r = api.get("/v1/consents", params={"from": "2024-03-01"})
    assert r.status_code == 422 and r.json()["field"] == "purpose"


def test_openapi_documents_the_parameters(api: Api) -> None:
    spec = api.get("/openapi.json", as_=None).json()
    params = {p["name"]: p for p in spec["paths"]["/v1/consents"]["get"]["parameters"]}
    assert set(params) == {"purpose", "from", "to", "known_at"}
    assert params["purpose"]["required"] is True
    assert params["purpose"]["schema"]["pattern"] == r"^[a-z][a-z0-9_]{0,63}$"
    for name in ("from", "to", "known_at"):
        schema = params[name]["schema"]
        assert schema["pattern"] == TIME, schema  # ledger.http.params
