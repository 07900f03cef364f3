"""The console's Person pages (issue 12) on both databases, the demo's day in the ledger:
the search by identifier (never in a URL or a title), the person's page and its recorded
read, the exports, a rights request recorded and answered, the erasure and its legal-hold
refusal, the roles, the CSRF token, bad input."""

from __future__ import annotations

import csv
import html
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from ledger.app.accesses import REASON_SETTING
from ledger.app.application import Ledger
from projections.portability import export_tables
from projections.queries import Reader
from tests.console_kit import Web, console_app
from tests.http_kit import TOKEN_NAMES
from tests.inquiry_kit import fill

SOPHIE = "sophie.bernard@example.fr"   # a legal hold is active on her
JULIEN = "julien.moreau@example.com"   # contact data, a disclosure; erasable
VISITOR = "visitor:7f3a9c2e-5b1d-4e8a-9f06-2c4d8b1a3e57"  # consents, cookie data
MARKUP = "visitor:markup"              # a consent that cites notice banner/v9 (HTML in it)
DPO = TOKEN_NAMES["dpo"]


@pytest.fixture
def web(ledger: Ledger, db_url: str, env: dict[str, str], tmp_path: Path) -> Iterator[Web]:
    fill(ledger, tmp_path / "day", markup=True)
    with console_app(ledger, db_url, env) as w:
        w.login("dpo")
        yield w


def open_person(web: Web, identifier: str) -> Any:
    return web.post("/console/person", {"identifier": identifier})


def plain(r: Any) -> str:
    """The page's text with its character references resolved (what a person reads)."""
    return html.unescape(r.text)


def path_of(r: Any) -> str:
    return str(r.url.path)


def of_type(ledger: Ledger, subject: str, type_: str) -> list[dict[str, Any]]:
    return [e for e in ledger.log(subject) if e["type"] == type_]


def test_search_answers_303_to_the_pseudonym_and_never_shows_the_identifier(
        web: Web, ledger: Ledger) -> None:
    page = web.get("/console/person")
    assert page.status_code == 200 and 'name="identifier"' in page.text
    r = web.post("/console/person", {"identifier": SOPHIE}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/console/person/{ledger.pseudonym(SOPHIE)}"
    shown = web.get(r.headers["location"])
    assert shown.status_code == 200
    title = shown.text.split("<title>")[1].split("</title>")[0]
    assert "Une personne" in title and SOPHIE not in title and "sophie" not in title.lower()
    for step in [*shown.history, shown]:
        assert "sophie" not in str(step.url).lower()
    assert SOPHIE in shown.text  # the decrypted values are on the page itself


def test_an_unknown_identifier_is_404_naming_the_field_and_shows_no_pseudonym(
        web: Web, ledger: Ledger) -> None:
    r = open_person(web, "nobody@example.org")
    assert r.status_code == 404 and path_of(r) == "/console/person"
    assert "« identifier » n’est pas connu de ce registre" in plain(r)
    assert ledger.pseudonym("nobody@example.org") not in r.text
    assert "nobody@example.org" not in r.text.split("<main")[0]  # not in the title/head
    empty = open_person(web, "  ")
    assert empty.status_code == 422 and "« identifier »" in plain(empty)
    assert web.get("/console/person/" + "0" * 64).status_code == 404
    assert web.get("/console/person/not-hex").status_code == 404


def test_the_page_shows_the_consent_timeline_with_the_notice_text(web: Web) -> None:
    r = open_person(web, MARKUP)
    assert r.status_code == 200
    main = r.text.split("<main", 1)[1]
    assert "cookies_audience" in main and "consentement donné" in main
    assert "banner/v9" in main and "Nous utilisons des traceurs." in main
    assert "<script>alert" not in r.text and "&lt;script&gt;alert" in main  # escaped
    assert "04/03/2026 09:01 (+01:00)" in main  # the choice, in the policy's zone


def test_the_page_shows_items_deadlines_requests_disclosures(web: Web) -> None:
    main = open_person(web, JULIEN).text.split("<main", 1)[1]
    assert "Julien" in main and "identification_contact" in main
    assert "Conservées jusqu’au" in html.unescape(main) and "sales_team" in main
    sophie = open_person(web, SOPHIE).text
    assert "DPO-2026-0030" in sophie and "demande satisfaite" in sophie
    assert "LegalHoldPlaced" in sophie
    visitor = plain(open_person(web, VISITOR))  # nested values as JSON, accents kept
    assert '["cloud souverain", "infogérance"]' in visitor
    assert "conservation échue : à supprimer" in visitor  # its advertising data, overdue


def test_each_view_and_download_is_recorded_as_a_read_by_the_session(
        web: Web, ledger: Ledger) -> None:
    ref = f"pseudonym:{ledger.pseudonym(JULIEN)}"
    assert of_type(ledger, ref, "PersonalDataAccessed") == []
    r = open_person(web, JULIEN)
    reads = of_type(ledger, ref, "PersonalDataAccessed")
    assert len(reads) == 1 and reads[0]["actor"] == DPO
    assert reads[0]["data"]["view"] == "export"
    assert DPO in r.text.split("Qui a lu", 1)[1]  # the page lists the read it made
    base = path_of(r)
    for fmt in ("json", "csv", "xlsx"):
        assert web.get(f"{base}/export/{fmt}").status_code == 200
    assert [e["actor"] for e in of_type(ledger, ref, "PersonalDataAccessed")] == [DPO] * 4


def test_the_exports_parse_and_match_the_readers_export(
        web: Web, ledger: Ledger, db_url: str, env: dict[str, str]) -> None:
    base = path_of(open_person(web, JULIEN))
    doc = web.get(f"{base}/export/json").json()
    with Reader(db_url, "main", env=env) as reader:
        expected = reader.export(JULIEN)
    steady = ("subject", "erased", "consents", "collections", "requests", "disclosures",
              "erasures")
    assert {k: doc[k] for k in steady} == {k: expected[k] for k in steady}
    assert doc["collections"][0]["values"]["first_name"] == "Julien"

    zipped = zipfile.ZipFile(io.BytesIO(web.get(f"{base}/export/csv").content))
    tables = export_tables(expected)
    assert sorted(zipped.namelist()) == sorted(tables)
    for name in ("collections.csv", "collected_values.csv", "disclosures.csv"):
        assert zipped.read(name).decode() == tables[name]

    r = web.get(f"{base}/export/xlsx")
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == [n.removesuffix(".csv") for n in tables]
    for name in ("collected_values", "disclosures", "consents"):
        rows = [[c or "" for c in row] for row in book[name].iter_rows(values_only=True)]
        assert rows == list(csv.reader(io.StringIO(tables[name + ".csv"], newline="")))
    first = next(row for row in book["collected_values"].iter_rows(values_only=True)
                 if row[2] == "first_name")
    assert first[3] == "Julien"


def test_a_request_is_recorded_then_answered(web: Web, ledger: Ledger, db_url: str,
                                             env: dict[str, str]) -> None:
    base = path_of(open_person(web, JULIEN))
    form = web.get(f"{base}/requests")
    assert form.status_code == 200 and 'name="identifier"' not in form.text  # remembered
    r = web.post(f"{base}/requests", {"request_id": "DPO-2026-0099", "right": "portability",
                                      "channel": "post", "received_at": "2026-03-20T10:30",
                                      "details": "Merci de m'envoyer mes données."},
                 follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{base}/requests"
    [received] = of_type(ledger, JULIEN, "RightsRequestReceived")
    assert received["actor"] == DPO and received["data"]["right"] == "portability"
    assert received["occurred_at"] == "2026-03-20T09:30:00.000000Z"  # Paris, UTC+1
    assert received["data"]["details"] == "Merci de m'envoyer mes données."
    page = web.get(f"{base}/requests")
    assert "DPO-2026-0099" in page.text and "La réponse à cette demande" in page.text
    answered = web.post(f"{base}/answer", {"request_id": "DPO-2026-0099",
                                           "outcome": "fulfilled", "text": "Sent by post."})
    assert answered.status_code == 200 and "Aucune demande en cours." in answered.text
    with Reader(db_url, "main", env=env) as reader:
        [row] = reader.requests(subject=JULIEN)["requests"]
    assert row["request_id"] == "DPO-2026-0099" and row["status"] == "fulfilled"
    assert row["outcome_text"] == "Sent by post."


@pytest.mark.parametrize(("fields", "field"), [
    ({"right": "teleportation"}, "right"),
    ({"channel": "pigeon"}, "channel"),
    ({"request_id": ""}, "request_id"),
    ({"request_id": "DPO 99 with spaces"}, "request_id"),
    ({"received_at": "yesterday"}, "received_at"),
    ({"received_at": "2026-02-30T10:00"}, "received_at"),
])
def test_bad_input_names_the_field_and_stores_nothing(web: Web, ledger: Ledger,
                                                      fields: dict[str, str],
                                                      field: str) -> None:
    base = path_of(open_person(web, JULIEN))
    head = ledger.head()
    good = {"request_id": "DPO-2026-0100", "right": "access", "channel": "email",
            "received_at": "", "details": ""}
    r = web.post(f"{base}/requests", {**good, **fields})
    assert r.status_code == 422
    assert f"Le champ « {field} »" in plain(r) and "Rien n’a été enregistré." in plain(r)
    assert 'aria-invalid="true"' in r.text
    assert ledger.head() == head


def test_extending_and_refusing_a_request_need_a_reason(
        web: Web, ledger: Ledger, db_url: str, env: dict[str, str]) -> None:
    base = path_of(open_person(web, JULIEN))
    web.post(f"{base}/requests", {"request_id": "R-1", "right": "erasure", "channel": "email"})
    head = ledger.head()
    r = web.post(f"{base}/answer", {"request_id": "R-1", "outcome": "refused", "text": ""})
    assert r.status_code == 422 and "Le champ « text »" in plain(r)
    bad = web.post(f"{base}/answer", {"request_id": "R-1", "outcome": "ignored"})
    assert bad.status_code == 422 and "Le champ « outcome »" in plain(bad)
    assert ledger.head() == head
    extended = web.post(f"{base}/answer", {"request_id": "R-1", "outcome": "extended",
                                           "text": "Many archives to search."})
    assert extended.status_code == 200 and "R-1" in plain(extended)  # still open
    assert "demande en cours, délai prolongé" in plain(web.get(base))
    refused = web.post(f"{base}/answer", {"request_id": "R-1", "outcome": "refused",
                                          "text": "Legal obligation to keep the data."})
    assert refused.status_code == 200
    with Reader(db_url, "main", env=env) as reader:
        [row] = reader.requests(subject=JULIEN)["requests"]
    assert row["status"] == "refused" and row["extension_reason"] == "Many archives to search."
    assert "demande refusée" in plain(web.get(base))


def test_another_session_types_the_identifier_again_and_it_is_checked(
        web: Web, ledger: Ledger) -> None:
    base = path_of(open_person(web, JULIEN))
    web.login("dpo")  # a new session: it did not search for Julien
    form = web.get(f"{base}/requests")
    assert 'name="identifier"' in form.text
    fields = {"request_id": "R-2", "right": "access", "channel": "email"}
    head = ledger.head()
    missing = web.post(f"{base}/requests", fields)
    assert missing.status_code == 422 and "Le champ « identifier » est obligatoire" \
        in missing.text
    wrong = web.post(f"{base}/requests", {**fields, "identifier": SOPHIE})
    assert wrong.status_code == 422 and "n’est pas l’identifiant" in plain(wrong)
    assert ledger.head() == head
    ok = web.post(f"{base}/requests", {**fields, "identifier": JULIEN})
    assert ok.status_code == 200 and len(of_type(ledger, JULIEN, "RightsRequestReceived")) == 1


def test_erasure_with_confirmation_destroys_the_keys_and_the_chain_verifies(
        web: Web, ledger: Ledger) -> None:
    base = path_of(open_person(web, JULIEN))
    page = web.get(f"{base}/erase")
    assert page.status_code == 200 and "Ce qui sera détruit" in page.text
    assert "identification_contact" in page.text and 'name="ground"' in page.text
    assert ledger.erasure_preview(JULIEN).keys > 0
    head = ledger.head()
    unconfirmed = web.post(f"{base}/erase", {"ground": "objection"})
    assert unconfirmed.status_code == 422 and "« confirm » doit être coché" in plain(unconfirmed)
    no_ground = web.post(f"{base}/erase", {"ground": "boredom", "confirm": "yes"})
    assert no_ground.status_code == 422 and "« ground »" in plain(no_ground)
    assert ledger.head() == head
    done = web.post(f"{base}/erase", {"ground": "objection", "confirm": "yes"})
    assert done.status_code == 200 and path_of(done) == base
    assert "Cette personne a été effacée" in done.text and "Julien" not in done.text
    [erased] = of_type(ledger, JULIEN, "SubjectErased")
    assert erased["actor"] == DPO and erased["data"]["ground"] == "objection"
    assert ledger.erasure_preview(JULIEN).keys == 0
    doc = web.get(f"{base}/export/json").json()
    assert doc["erased"] is True and doc["collections"][0]["erased"] is True
    assert set(doc["collections"][0]["values"].values()) == {None}
    assert ledger.verify().ok


def test_a_legal_hold_blocks_the_erasure(web: Web, ledger: Ledger) -> None:
    base = path_of(open_person(web, SOPHIE))
    page = web.get(f"{base}/erase")
    assert "Un gel juridique est actif (HOLD-2026-004)" in page.text
    assert 'name="confirm"' not in page.text  # no form to erase
    head = ledger.head()
    r = web.post(f"{base}/erase", {"ground": "objection", "confirm": "yes"})
    assert r.status_code == 422
    assert "Le registre l’a refusé : a legal hold is active (HOLD-2026-004)" in plain(r)
    assert ledger.head() == head and of_type(ledger, SOPHIE, "SubjectErased") == []


def test_an_auditor_gets_403_on_every_person_route(web: Web, ledger: Ledger) -> None:
    base = f"/console/person/{ledger.pseudonym(JULIEN)}"
    web.login("auditor")
    head = ledger.head()
    for path in ("/console/person", base, f"{base}/export/json", f"{base}/export/csv",
                 f"{base}/export/xlsx", f"{base}/requests", f"{base}/erase"):
        assert web.get(path).status_code == 403, path
    for path, fields in (("/console/person", {"identifier": JULIEN}),
                         (f"{base}/requests", {"request_id": "X", "right": "access",
                                               "channel": "email", "identifier": JULIEN}),
                         (f"{base}/answer", {"request_id": "X", "outcome": "fulfilled"}),
                         (f"{base}/erase", {"ground": "objection", "confirm": "yes",
                                            "identifier": JULIEN})):
        r = web.post(path, fields)
        assert r.status_code == 403 and "Julien" not in r.text, path
    assert ledger.head() == head


def test_a_post_without_its_csrf_token_is_refused_and_stores_nothing(
        web: Web, ledger: Ledger) -> None:
    base = path_of(open_person(web, JULIEN))
    head = ledger.head()
    fields = {"request_id": "R-3", "right": "access", "channel": "email"}
    assert web.post(f"{base}/requests", fields, csrf=None).status_code == 403
    assert web.post(f"{base}/requests", fields, csrf="wrong").status_code == 403
    assert web.post(f"{base}/erase", {"ground": "objection", "confirm": "yes"},
                    csrf=None).status_code == 403
    assert web.post("/console/person", {"identifier": JULIEN}, csrf=None).status_code == 403
    assert ledger.head() == head


def test_a_required_reason_is_asked_for_and_recorded(ledger: Ledger, db_url: str,
                                                      env: dict[str, str],
                                                      tmp_path: Path) -> None:
    fill(ledger, tmp_path / "day")
    with console_app(ledger, db_url, {**env, REASON_SETTING: "1"}) as web:
        web.login("dpo")
        assert 'name="reason"' in web.get("/console/person").text
        head = ledger.head()
        r = open_person(web, JULIEN)
        assert r.status_code == 422 and "« reason »" in plain(r) and ledger.head() == head
        # a link to the page, without a search that gave a reason: nothing is read
        direct = web.get(f"/console/person/{ledger.pseudonym(JULIEN)}")
        assert direct.status_code == 200 and "Julien" not in direct.text
        assert ledger.head() == head
        ok = web.post("/console/person", {"identifier": JULIEN, "reason": "Ticket 42"})
        assert ok.status_code == 200 and "Julien" in ok.text
        [read] = of_type(ledger, JULIEN, "PersonalDataAccessed")
        assert read["data"]["reason"] == "Ticket 42" and read["actor"] == DPO


def test_the_json_export_is_an_attachment_named_by_pseudonym(web: Web, ledger: Ledger) -> None:
    base = path_of(open_person(web, JULIEN))
    r = web.get(f"{base}/export/json")
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "julien" not in disposition.lower()
    assert json.loads(r.content)["subject"] == ledger.pseudonym(JULIEN)


def test_the_pages_in_english(web: Web, ledger: Ledger) -> None:
    base = path_of(open_person(web, MARKUP))
    r = web.post("/console/language", {"lang": "en", "next": base})
    assert r.status_code == 200 and '<html lang="en">' in r.text
    assert "<title>A person ·" in r.text and "consent given" in r.text
    assert "Text of the notice banner/v9 (fr)" in r.text
    erase = web.get(f"{base}/erase")
    assert "What will be destroyed" in erase.text and "No active legal hold." in erase.text
    requests = web.get(f"{base}/requests")
    assert "Record a new request" in requests.text and "by a web form" in requests.text
