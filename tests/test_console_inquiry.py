"""The console's inquiry page (issue 12) on both databases, the demo's day in the ledger:
the form builds the API's pack (a zip that ``ledger verify --inquiry`` accepts), subjects
only by POST and named by pseudonym, a bad scope answered 422 naming the field and
storing nothing, the auditor and a form without its CSRF token refused."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.app.application import Ledger
from ledger.trust.inquiry_check import check_inquiry
from tests.console_kit import Web, console_app
from tests.inquiry_kit import CANDIDATE, fill

SCOPE = {"from": "2026-03-01", "to": "2026-03-31", "reference": "CNIL-2026-042",
         "title": "Contrôle sur place", "lang": "fr"}


@pytest.fixture
def web(ledger: Ledger, db_url: str, env: dict[str, str], tmp_path: Path) -> Iterator[Web]:
    fill(ledger, tmp_path / "day")
    with console_app(ledger, db_url, env) as w:
        w.login("dpo")
        yield w


def test_the_form_offers_the_policys_purposes(web: Web) -> None:
    page = web.get("/console/inquiry")
    assert page.status_code == 200 and "Dossier de contrôle" in page.text
    assert 'name="csrf"' in page.text and 'method="post"' in page.text
    ropa = web.client.get("/v1/ropa", headers={
        "Authorization": f"Bearer {web.tokens['dpo']}"}).json()
    offered = re.findall(r'name="purposes" value="([a-z_]+)"', page.text)
    assert offered == [p["id"] for p in ropa["purposes"]]


def test_the_form_builds_a_pack_that_verifies_offline(web: Web, tmp_path: Path) -> None:
    r = web.post("/console/inquiry", {**SCOPE, "purposes": ["recruitment",
                                                            "cookies_advertising"],
                                      "subjects": f"{CANDIDATE}\r\n\r\n"})
    assert r.status_code == 200, r.text[-1500:]
    assert r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        names = set(z.namelist())
        z.extractall(tmp_path / "pack")
    assert {"rapport.html", "figures.json", "registres.xlsx", "evidence/entries.jsonl",
            "evidence/checkpoint.txt", "evidence/proofs.jsonl", "evidence/VERIFY.md"} <= names
    assert "rapport.pdf" not in names  # not asked for, as on the API by default
    report = check_inquiry(tmp_path / "pack")
    assert report.ok, report.reason
    html = (tmp_path / "pack" / "rapport.html").read_text(encoding="utf-8")
    assert "CNIL-2026-042" in html and "Contrôle sur place" in html
    assert CANDIDATE not in html  # a subject in scope is named by pseudonym
    assert CANDIDATE not in str(r.url)


@pytest.mark.parametrize(("change", "field"), [
    ({"from": ""}, "from"),
    ({"to": ""}, "to"),
    ({"from": "2026-04-01"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"to": "2026-02-30"}, "to"),
    ({"lang": "de"}, "lang"),
    ({"purposes": ["nope"]}, "purposes"),
    ({"purposes": ["Not A Purpose"]}, "purposes"),
    ({"breaches": "BRK-1 <b>"}, "breaches"),
    ({"as_of": "2026-03-15"}, "as_of"),
    ({"known_at": "2026-03-31T25:00:00Z"}, "known_at"),
    ({"subjects": "x" * 1000}, "subjects"),
    ({"title": "a\u0007b"}, "title"),
])
def test_a_bad_scope_is_422_naming_the_field(web: Web, ledger: Ledger,
                                             change: dict[str, object], field: str) -> None:
    head = ledger.head()
    r = web.post("/console/inquiry", {**SCOPE, **change})
    assert r.status_code == 422, r.text[-800:]
    assert "text/html" in r.headers["content-type"]
    alert = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', r.text, re.S)
    assert alert and f"({field})" in alert.group(1) and "Rien n’a été construit" in \
        alert.group(1)
    assert ledger.head() == head


def test_the_auditor_and_a_form_without_its_token_are_refused(web: Web,
                                                              ledger: Ledger) -> None:
    head = ledger.head()
    r = web.post("/console/inquiry", SCOPE, csrf=None)
    assert r.status_code == 403 and "application/zip" not in r.headers["content-type"]
    r = web.post("/console/inquiry", SCOPE, csrf="wrong")
    assert r.status_code == 403
    web.client.cookies.clear()
    web.login("auditor")
    assert web.get("/console/inquiry").status_code == 403
    r = web.post("/console/inquiry", SCOPE)
    assert r.status_code == 403 and "application/zip" not in r.headers["content-type"]
    assert ledger.head() == head
