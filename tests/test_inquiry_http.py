"""``POST /v1/inquiries`` (DPO role) on both databases: the pack as a zip, checked offline;
bad scope answered 422 naming the field; other roles refused."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.app.application import Ledger
from ledger.trust.inquiry_check import check_inquiry
from tests.http_kit import Api, api_for
from tests.inquiry_kit import fill


@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str], tmp_path: Path) -> Iterator[Api]:
    fill(ledger, tmp_path / "day")
    with api_for(ledger, db_url, env, routes=None) as a:  # None: the entry points
        yield a


def test_the_pack_as_a_zip_verifies_offline(api: Api, tmp_path: Path) -> None:
    r = api.post("/v1/inquiries", as_="dpo", json={
        "from": "2026-03-01", "to": "2026-03-31", "reference": "CNIL-2026-042",
        "lang": "en", "pdf": False})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = set(z.namelist())
        z.extractall(tmp_path / "pack")
    assert {"report.html", "figures.json", "registers.xlsx", "evidence/entries.jsonl",
            "evidence/checkpoint.txt", "evidence/proofs.jsonl", "evidence/VERIFY.md"} <= names
    report = check_inquiry(tmp_path / "pack")
    assert report.ok, report.reason
    assert report.figures > 20 and report.proofs > 10


@pytest.mark.parametrize(("body", "field"), [
    ({"from": "2026-04-01", "to": "2026-03-01"}, "from"),
    ({"from": "2026-03-01", "to": "2026-03-31", "lang": "de"}, "lang"),
    ({"from": "2026-03-01", "to": "2026-03-31", "purposes": ["nope"]}, "purposes"),
    ({"from": "yesterday", "to": "2026-03-31"}, "from"),
])
def test_bad_scope_is_422_naming_the_field(api: Api, body: dict[str, object],
                                           field: str) -> None:
    r = api.post("/v1/inquiries", as_="dpo", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field


def test_only_the_dpo(api: Api) -> None:
    body = {"from": "2026-03-01", "to": "2026-03-31", "pdf": False}
    assert api.post("/v1/inquiries", as_="service", json=body).status_code == 403
    assert api.post("/v1/inquiries", as_="auditor", json=body).status_code == 403
    assert api.post("/v1/inquiries", as_=None, json=body).status_code == 401
