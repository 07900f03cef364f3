"""The console's registers (issue 12) on both databases, the demo's day in the ledger:
each page lists the rows the API's route gives for the same filters, the time frame
(as_of, known_at) changes both alike, the downloads hold the same rows, bad values are
answered 422 naming the field, the auditor is refused, an identifier never goes in a URL."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from openpyxl import load_workbook

from ledger.app.application import Ledger
from tests.console_kit import Web, console_app
from tests.inquiry_kit import fill

SUBJECT = "sophie.bernard@example.fr"
ROW = re.compile(r'<tr data-seq="(\d+)">')
ROWS = {"retention": "items", "requests": "requests", "breaches": "breaches",
        "disclosures": "disclosures", "accesses": "accesses"}
# per register: filter sets, the API's parameters being the console's (accesses' subject:
# `pseudonym` in the console, `subject=pseudonym:<hex>` on the API)
CASES: dict[str, list[dict[str, str]]] = {
    "retention": [{}, {"status": "overdue"}, {"status": "erased"},
                  {"due_before": "2026-05-01"}, {"as_of": "2026-03-03"},
                  {"as_of": "2026-03-02"}, {"known_at": "2026-03-31"}],
    "requests": [{}, {"open": "true"}, {"open": "false"}, {"overdue": "true"},
                 {"as_of": "2026-03-03"},
                 {"as_of": "2026-03-02"}, {"known_at": "2026-03-31"}],
    "breaches": [{}, {"as_of": "2026-03-03"}, {"as_of": "2026-03-02"},
                 {"known_at": "2026-03-31"}, {"as_of": "2026-03-03", "known_at": "2026-04-02"}],
    "disclosures": [{}, {"as_of": "2026-03-02"}, {"known_at": "2026-03-31"}],
    "accesses": [{}, {"actor": "dpo-desk"}, {"actor": "nobody"}, {"from": "2026-04-02"},
                 {"to": "2026-03-31"}, {"as_of": "2026-03-31"}, {"known_at": "2026-04-02"}],
}


@pytest.fixture
def web(ledger: Ledger, db_url: str, env: dict[str, str], tmp_path: Path) -> Iterator[Web]:
    fill(ledger, tmp_path / "day")
    with console_app(ledger, db_url, env) as w:
        # a read of a person's data, so that the reads register has a row
        r = w.client.get(f"/v1/subjects/{quote(SUBJECT)}/export",
                         headers={"Authorization": f"Bearer {w.tokens['dpo']}"})
        assert r.status_code == 200, r.text
        w.login("dpo")
        yield w


def api(web: Web, path: str, params: dict[str, str]) -> dict[str, Any]:
    r = web.client.get(path, params=params,
                       headers={"Authorization": f"Bearer {web.tokens['dpo']}"})
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    return doc


def shown(html: str) -> list[int]:
    return [int(s) for s in ROW.findall(html)]


@pytest.mark.parametrize("kind", list(CASES))
def test_each_register_shows_the_apis_rows_for_the_same_filters(web: Web, kind: str) -> None:
    answers = []
    for params in CASES[kind]:
        page = web.get(f"/console/registers/{kind}?{urlencode(params)}")
        assert page.status_code == 200, (params, page.text[-800:])
        doc = api(web, f"/v1/{kind}", params)
        expected = [row["seq"] for row in doc[ROWS[kind]]]
        assert shown(page.text) == expected, params
        answers.append(expected)
    # the filters and the time frame change the answer (on both faces alike)
    assert answers[0], f"the demo's day gives {kind} rows"
    assert any(a != answers[0] for a in answers[1:])
    assert any(a == [] for a in answers[1:])


def test_the_reads_register_takes_a_pseudonym_in_the_url_and_an_identifier_by_post(
        web: Web) -> None:
    r = web.post("/console/registers/accesses/subject", {"subject": SUBJECT,
                                                           "from": "2026-04-01"})
    assert r.status_code == 200
    assert SUBJECT not in str(r.url) and all(SUBJECT not in str(h.url) and SUBJECT not in
                                             h.headers.get("location", "") for h in r.history)
    pseudonym = re.search(r"pseudonym=([0-9a-f]{64})", str(r.url))
    assert pseudonym and "from=2026-04-01" in str(r.url)
    doc = api(web, "/v1/accesses", {"subject": SUBJECT, "from": "2026-04-01"})
    assert doc["count"] == 1 and doc["accesses"][0]["subject"] == pseudonym.group(1)
    assert shown(r.text) == [doc["accesses"][0]["seq"]]
    # a pseudonym links to the person's page (the DPO holds subjects:export)
    link = f'href="/console/person/{pseudonym.group(1)}"'
    assert link in r.text
    assert web.get(f"/console/person/{pseudonym.group(1)}").status_code == 200
    other = web.post("/console/registers/accesses/subject", {"subject": "nobody@example.org"})
    assert other.status_code == 200 and shown(other.text) == []


def test_the_record_of_processing_is_a_readable_document(web: Web) -> None:
    page = web.get("/console/registers/ropa")
    assert page.status_code == 200
    doc = api(web, "/v1/ropa", {})
    for p in doc["purposes"]:
        assert f'data-purpose="{p["id"]}"' in page.text
    assert doc["controller"]["email"] in page.text
    assert "Intérêt légitime" in page.text and "Consentement" in page.text  # French first
    periods = {c["retention"] for p in doc["purposes"] for c in p["data_categories"]}
    for months in (int(m[1:-1]) for m in periods if m and re.fullmatch(r"P\d+M", m)):
        assert f'title="P{months}M">{months} mois<' in page.text  # a period in words
    assert any(re.fullmatch(r"P\d+M", m or "") for m in periods)
    early = web.get("/console/registers/ropa?as_of=2000-01-01")
    assert early.status_code == 422 and "(as_of)" in early.text


def _csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8")), delimiter=";"))


def _xlsx(data: bytes, sheet: str) -> list[dict[str, Any]]:
    ws = load_workbook(io.BytesIO(data), read_only=True)[sheet]
    lines = [list(r) for r in ws.iter_rows(values_only=True)]
    return [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]


@pytest.mark.parametrize(("kind", "params"), [
    ("retention", {"status": "active", "as_of": "2026-03-03"}),
    ("requests", {}),
    ("breaches", {"as_of": "2026-03-03"}),
    ("disclosures", {}),
    ("accesses", {"actor": "dpo-desk"}),
])
def test_downloads_hold_the_rows_shown(web: Web, kind: str, params: dict[str, str]) -> None:
    doc = api(web, f"/v1/{kind}", params)
    expected = [(row["seq"], row["hash"]) for row in doc[ROWS[kind]]]
    assert expected
    base = f"/console/registers/{kind}?{urlencode(params)}"
    page = web.get(base)
    links = re.findall(r'href="([^"]*format=(csv|xlsx|json))"', page.text)
    assert {fmt for _, fmt in links} == {"csv", "xlsx", "json"}
    files = {fmt: web.get(href.replace("&amp;", "&")) for href, fmt in links}
    assert "attachment" in files["csv"].headers["content-disposition"]
    rows = _csv(files["csv"].content)
    assert [(int(r["seq"]), r["hash"]) for r in rows] == expected
    sheet = _xlsx(files["xlsx"].content, kind)
    assert [(r["seq"], r["hash"]) for r in sheet] == expected
    assert files["json"].json()[ROWS[kind]] == doc[ROWS[kind]]
    # times for people: the policy's zone with its offset, in the CSV as on the page
    times = [v for r in rows for k, v in r.items() if k.endswith("_at") and v]
    assert times and all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d \(\+0[12]:00\)", t)
                         for t in times)


def test_the_record_of_processing_downloads_one_row_a_purpose(web: Web) -> None:
    doc = api(web, "/v1/ropa", {})
    rows = _csv(web.get("/console/registers/ropa?format=csv").content)
    assert [r["id"] for r in rows] == [p["id"] for p in doc["purposes"]]
    sheet = _xlsx(web.get("/console/registers/ropa?format=xlsx").content, "ropa")
    assert [r["legal_basis"] for r in sheet] == [p["legal_basis"] for p in doc["purposes"]]


@pytest.mark.parametrize(("kind", "params", "field", "words"), [
    ("retention", {"as_of": "2026-02-30"}, "as_of", "date du calendrier"),
    ("retention", {"due_before": "yesterday"}, "due_before", "RFC 3339"),
    ("retention", {"status": "lost"}, "status", "active, due"),
    ("requests", {"known_at": "2026-13-01"}, "known_at", "date du calendrier"),
    ("breaches", {"as_of": "03/03/2026"}, "as_of", "RFC 3339"),
    ("accesses", {"from": "2026-04-02", "to": "2026-04-01"}, "from", "postérieur"),
    ("accesses", {"pseudonym": SUBJECT}, "pseudonym", "hexadécimaux"),
    ("accesses", {"actor": "a b"}, "actor", "1 à 128"),
    ("requests", {"open": "maybe"}, "open", "vrai ou faux"),
    ("disclosures", {"format": "pdf"}, "format", "csv, xlsx, json"),
])
def test_a_bad_value_is_422_naming_the_field(web: Web, kind: str, params: dict[str, str],
                                             field: str, words: str) -> None:
    r = web.get(f"/console/registers/{kind}?{urlencode(params)}")
    assert r.status_code == 422
    alert = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', r.text, re.S)
    assert alert, r.text[-1500:]
    assert f"({field})" in alert.group(1) and words in alert.group(1)
    assert shown(r.text) == []


def test_a_bad_identifier_is_422_and_stores_nothing(web: Web, ledger: Ledger) -> None:
    head = ledger.head()
    for bad in ("", "a\u0000b", "x" * 1000):
        r = web.post("/console/registers/accesses/subject", {"subject": bad})
        assert r.status_code == 422 and "(subject)" in r.text
        assert bad not in r.text or bad == ""
    assert ledger.head() == head


def test_the_auditor_is_refused_every_register(web: Web) -> None:
    web.client.cookies.clear()
    web.login("auditor")
    for kind in [*CASES, "ropa"]:
        for query in ("", "?format=csv", "?format=json"):
            r = web.get(f"/console/registers/{kind}{query}")
            assert r.status_code == 403, (kind, query)
            assert "text/html" in r.headers["content-type"]
    r = web.post("/console/registers/accesses/subject", {"subject": SUBJECT})
    assert r.status_code == 403
    home = web.get("/console/")
    assert home.status_code == 200 and "/console/registers/" not in home.text


def test_an_unknown_register_is_404(web: Web) -> None:
    assert web.get("/console/registers/everything").status_code == 404


def test_under_a_routing_file_every_link_stays_in_its_ledger(tmp_path: Path,
                                                            db_url: str) -> None:
    """Ledger b's registers link, download and redirect only under /ledgers/b/."""
    from fastapi.testclient import TestClient

    from ledger.app.routing import load_routing
    from ledger.http.ledgers import create_routed_app
    from tests.console_kit import csrf_of
    from tests.test_routing import _init_all, _routing

    path = _routing(tmp_path, db_url)
    tokens = _init_all(path)
    app = create_routed_app(load_routing(str(path)), plugins=())
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        page = client.get("/ledgers/b/console/login")
        r = client.post("/ledgers/b/console/login", data={"csrf": csrf_of(page.text),
                                                          "token": tokens["b"]})
        assert r.status_code == 303
        for kind in [*CASES, "ropa"]:
            r = client.get(f"/ledgers/b/console/registers/{kind}?as_of=2026-03-03")
            assert r.status_code == 200, (kind, r.text[-500:])
            targets = re.findall(r'(?:href|action|src)="(/[^"]*)"', r.text)
            assert any("format=csv" in t for t in targets)
            assert all(t.startswith("/ledgers/b/") for t in targets), kind
        r = client.post("/ledgers/b/console/registers/accesses/subject",
                        data={"csrf": csrf_of(r.text), "subject": SUBJECT},
                        headers={"Origin": "http://testserver"})
        assert r.status_code == 303
        assert r.headers["location"].startswith(
            "/ledgers/b/console/registers/accesses?pseudonym=")


def test_english_on_demand_times_in_the_policys_zone(web: Web) -> None:
    fr = web.get("/console/registers/requests")
    assert "Demandes d’exercice des droits" in fr.text and "03/03/2026 09:05 (+01:00)" in fr.text
    r = web.post("/console/language", {"lang": "en", "next": "/console/registers/requests"})
    assert r.status_code == 200 and str(r.url).endswith("/console/registers/requests")
    assert '<html lang="en">' in r.text and "Rights requests received" in r.text
    assert "2026-03-03 09:05 +01:00" in r.text  # received 08:05 UTC, Paris in winter
    rows = _csv(web.get("/console/registers/requests?format=csv").content)
    assert rows[0]["received_at"] == "2026-03-03 09:05 +01:00" and rows[0]["overdue"] == "no"


def test_a_long_register_is_shown_in_pages_and_downloaded_whole(
        web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table holds PAGE_ROWS rows a page (a register of 36,480 rows was a 24.7 MB page);
    the pages together are the API's rows, in order; the downloads hold every row."""
    from projections.console import page_registers

    monkeypatch.setattr(page_registers, "PAGE_ROWS", 3)
    expected = [row["seq"] for row in api(web, "/v1/retention", {})["items"]]
    assert len(expected) > 6
    pages = -(-len(expected) // 3)
    seen: list[int] = []
    for n in range(1, pages + 1):
        page = web.get(f"/console/registers/retention?page={n}")
        assert page.status_code == 200
        rows = shown(page.text)
        assert 1 <= len(rows) <= 3
        assert f"Page {n} sur {pages}" in page.text
        assert ('rel="next"' in page.text) == (n < pages)
        assert ('rel="prev"' in page.text) == (n > 1)
        seen += rows
    assert seen == expected
    active = [row["seq"] for row in api(web, "/v1/retention", {"status": "active"})["items"]]
    assert len(active) > 6
    with_filter = web.get("/console/registers/retention?status=active&page=2")
    assert shown(with_filter.text) == active[3:6]
    nxt = re.search(r'<a href="([^"]+)" rel="next"', with_filter.text)
    assert nxt and "status=active" in nxt.group(1) and "page=3" in nxt.group(1)
    csv_rows = web.get("/console/registers/retention?format=csv").text.count("\r\n") - 1
    assert csv_rows == len(expected)
    for bad in ("0", str(pages + 1), "x", "-1"):
        r = web.get(f"/console/registers/retention?page={bad}")
        assert r.status_code == 422 and "page" in r.text, bad
