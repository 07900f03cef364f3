"""The read-model routes (projections/http.py, loaded by its entry point) on both databases.

Each answer must equal what :class:`projections.queries.Reader` (what the
``ledger`` commands print with ``--json``) gives for the same question, and the
role rules of the issue must hold: ``service`` reads consent only, the
``auditor`` reads no personal data, the ``dpo`` reads everything.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from ledger.app.application import Ledger
from projections.queries import Reader, parse_when
from tests.http_kit import Api, api_for
from tests.projections_history import AT, SECRETS, SUBJECTS, build

ROUTES = {  # path, who may read it
    "/v1/subjects/{a}/consent": {"service", "dpo"},
    "/v1/subjects/{a}/export": {"dpo"},
    "/v1/retention": {"dpo"},
    "/v1/requests": {"dpo"},
    "/v1/breaches": {"dpo"},
    "/v1/disclosures": {"dpo"},
    "/v1/ropa": {"dpo"},
}


@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    build(ledger)
    with api_for(ledger, db_url, env, routes=None) as a:  # None: the entry points
        yield a


@pytest.fixture
def reader(ledger: Ledger, env: dict[str, str]) -> Iterator[Reader]:
    r = Reader(ledger.url or "", ledger.name, env=env)
    yield r
    r.close()


def at(text: str) -> str:
    """A time as the routes read it: a bare date is a day in the bundled policy's zone."""
    out = parse_when(text, "t", zone="Europe/Paris")
    assert out is not None
    return out


def path(template: str) -> str:
    return template.format(a=quote(SUBJECTS["A"], safe=""))


@pytest.mark.parametrize("template", sorted(ROUTES))
def test_roles(api: Api, template: str) -> None:
    for role in ("service", "auditor", "dpo"):
        r = api.get(path(template), as_=role)
        assert r.status_code == (200 if role in ROUTES[template] else 403), (role, r.text)
    r = api.get(path(template), as_=None)
    assert r.status_code == 401
    assert SUBJECTS["A"] not in r.text
    assert api.get(path(template), as_="ldg_not-a-token").status_code == 401


def test_consent_as_the_command_answers(api: Api, reader: Reader) -> None:
    for subject in SUBJECTS.values():
        for as_of, known_at in ((AT, None), ("2024-01-01", None), (AT, "2024-03-01")):
            params: dict[str, Any] = {"as_of": as_of}
            if known_at:
                params["known_at"] = known_at
            r = api.get(f"/v1/subjects/{quote(subject, safe='')}/consent", as_="service",
                        params=params)
            assert r.status_code == 200, r.text
            want = reader.consent(subject, as_of=at(as_of),
                                  known_at=at(known_at) if known_at else None)
            got = r.json()
            got.pop("now", None)
            want.pop("now", None)
            assert got == json.loads(json.dumps(want))


def test_bad_time_is_named(api: Api) -> None:
    r = api.get(path("/v1/subjects/{a}/consent"), as_="service", params={"as_of": "yesterday"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "as_of"
    r = api.get("/v1/retention", params={"status": "forgotten"})
    assert r.status_code == 422
    assert r.json()["field"] == "status"


def test_registers_as_the_commands_answer(api: Api, reader: Reader) -> None:
    r = api.get("/v1/retention", params={"at": AT})
    assert r.status_code == 200
    assert r.json()["counts"] == {"active": 1, "due": 1, "overdue": 1, "held": 1,
                                  "erased": 1, "anonymised": 1}
    assert r.json() == json.loads(json.dumps(reader.retention(at=at(AT))))
    for params, kw in (({"at": AT}, {}), ({"at": AT, "open": "true"}, {"open_only": True}),
                       ({"at": AT, "overdue": "true"}, {"overdue_only": True})):
        r = api.get("/v1/requests", params=params)
        assert r.json() == json.loads(json.dumps(reader.requests(at=at(AT), **kw)))
    r = api.get("/v1/breaches", params={"at": AT})
    assert r.json() == json.loads(json.dumps(reader.breaches(at=at(AT))))


def test_every_register_takes_as_of_and_known_at(api: Api, reader: Reader) -> None:
    """The same names on every route; ``at`` still answers as ``as_of`` (deprecated)."""
    when = {"as_of": "2024-05-12", "known_at": AT}
    kw = {"as_of": at("2024-05-12"), "known_at": at(AT)}
    for route, read in (("/v1/retention", reader.retention), ("/v1/requests", reader.requests),
                        ("/v1/breaches", reader.breaches),
                        ("/v1/disclosures", reader.disclosures), ("/v1/ropa", reader.ropa)):
        r = api.get(route, params=when)
        assert r.status_code == 200, (route, r.text)
        assert r.json() == json.loads(json.dumps(read(**kw))), route
        assert r.json()["as_of"] == at("2024-05-12") and r.json()["known_at"] == at(AT)
        old = api.get(route, params={"at": "2024-05-12"})
        assert old.json() == api.get(route, params={"as_of": "2024-05-12"}).json(), route
        bad = api.get(route, params={"known_at": "yesterday"})
        assert (bad.status_code, bad.json()["field"]) == (422, "known_at"), route
    # on 12 May 2024 the breaches of 20 and 30 May (B4, B3) were not there yet
    ids = [b["breach_id"] for b in api.get("/v1/breaches", params=when).json()["breaches"]]
    assert ids == ["B1", "B2"]
    both = api.get("/v1/requests", params={"at": "2024-05-12", "as_of": "2024-05-13"})
    assert (both.status_code, both.json()["field"]) == (422, "at")
    export = api.get(path("/v1/subjects/{a}/export"), params={"as_of": "2023-01-10T10:00:30Z"})
    assert export.status_code == 200 and export.json()["as_of"] == at("2023-01-10T10:00:30Z")
    assert [e["type"] for e in export.json()["events"]] == ["ConsentGiven"]
    schema = api.get("/openapi.json").json()
    params = {p["name"]: p for p in schema["paths"]["/v1/retention"]["get"]["parameters"]}
    assert params["at"].get("deprecated") is True and "as_of" in params


def test_export_json_and_csv(api: Api) -> None:
    living = quote(SUBJECTS["C"], safe="")
    doc = api.get(f"/v1/subjects/{living}/export").json()
    assert doc["erased"] is False and doc["events"]
    assert all("seq" in e and "hash" in e for e in doc["events"])
    r = api.get(f"/v1/subjects/{living}/export", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert api.get(f"/v1/subjects/{living}/export",
                   params={"format": "xml"}).status_code == 422


def test_export_of_an_erased_subject_holds_no_personal_value(api: Api) -> None:
    erased = quote(SUBJECTS["E"], safe="")
    r = api.get(f"/v1/subjects/{erased}/export")
    assert r.status_code == 200
    assert r.json()["erased"] is True
    for secret in (*SECRETS["E"], SUBJECTS["E"]):
        assert secret not in r.text
    zipped = api.get(f"/v1/subjects/{erased}/export", params={"format": "csv"}).content
    with zipfile.ZipFile(io.BytesIO(zipped)) as z:
        text = "".join(z.read(n).decode() for n in z.namelist())
    for secret in (*SECRETS["E"], SUBJECTS["E"]):
        assert secret not in text


def test_reads_follow_new_appends(api: Api, ledger: Ledger) -> None:
    subject = "late-comer@example.org"
    url = f"/v1/subjects/{quote(subject, safe='')}/consent"
    when = {"as_of": AT}  # the consent lapses after 6 months (bundled consent_validity)
    before = api.get(url, as_="service", params=when).json()
    assert all(p["status"] != "granted" for p in before["purposes"])
    r = api.post("/v1/events", as_="service", json={
        "type": "ConsentGiven", "subject": subject, "occurred_at": "2024-06-01T11:00:00Z",
        "data": {"purpose": "cookies_functional", "method": "banner"}})
    assert r.status_code == 201, r.text
    after = api.get(url, as_="service", params=when).json()
    granted = [p["purpose"] for p in after["purposes"] if p["status"] == "granted"]
    assert granted == ["cookies_functional"]
