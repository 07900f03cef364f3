"""Help and human output of the read commands (issue 13 item 10, projections/cli.py): tables
with headers that fit 100 columns, plural forms, times in the policy's time zone, subjects
unknown to the ledger said to be unknown, and bare dates read as days of the policy's time
zone (on the CLI and over HTTP), on both databases."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from ledger.app.application import Ledger
from ledger.cli.format import WIDTH
from ledger.domain.periods import human_time
from tests.http_kit import Api, api_for
from tests.projections_history import SUBJECTS, build, ev
from tests.test_projections_cli import filled, js, run  # noqa: F401 - the fixture

ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
NOBODY = "nobody@example.fr"


def _fits(text: str) -> None:
    too_wide = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not too_wide, too_wide


def _header(text: str, *words: str) -> None:
    """Some line of ``text`` is a table header starting with ``words``."""
    assert any(line.split()[:len(words)] == list(words) for line in text.splitlines()), text


# -- tables, plural forms, local times ----------------------------------------------------------
def test_registers_are_tables_that_fit(filled: dict[str, str]) -> None:  # noqa: F811
    status = run(filled, "projections", "status").stdout
    _header(status, "PROJECTION", "POSITION", "HEAD", "LAG", "STATE")
    retention = run(filled, "retention", "--as-of", "2024-06-01T12:00:00Z").stdout
    _header(retention, "SEQ", "SUBJECT", "CATEGORY", "PURPOSE", "DEADLINE", "STATUS")
    assert "6 items: 1 active, 1 due, 1 overdue" in retention
    requests = run(filled, "requests", "--as-of", "2024-06-01T12:00:00Z").stdout
    _header(requests, "REQUEST", "RIGHT", "SUBJECT", "RECEIVED", "DUE", "STATUS")
    assert requests.splitlines()[1] == "4 requests (times in Europe/Paris)"
    assert "OVERDUE" in requests
    breaches = run(filled, "breaches", "--as-of", "2024-06-01T12:00:00Z").stdout
    _header(breaches, "BREACH", "DISCOVERED", "NOTIFIED", "HOURS", "STATUS")
    assert breaches.splitlines()[1] == "4 breaches (times in Europe/Paris)"
    assert "late_with_reason" in breaches
    one = run(filled, "breaches", "--as-of", "2024-05-02T00:00:00Z").stdout
    assert one.splitlines()[1].startswith("1 breach (")
    disclosures = run(filled, "disclosures").stdout
    _header(disclosures, "SEQ", "OCCURRED", "RECIPIENT", "KIND", "CTRY")
    assert "\n1 disclosure, 0 outside the EEA (" in disclosures
    none = run(filled, "disclosures", "--as-of", "2024-05-01T00:00:00Z").stdout
    assert "\n0 disclosures, " in none and "(none)" in none
    campaign = run(filled, "consent", "--purpose", "cookies_audience").stdout
    _header(campaign, "SEQ", "OCCURRED", "CHOICE", "SUBJECT", "METHOD", "POLICY")
    doc = js(filled, "consent", "--purpose", "cookies_audience", "--json")
    assert f"{doc['total']} choices by {doc['subjects']} subjects;" in campaign
    subject = run(filled, "consent", SUBJECTS["A"]).stdout
    _header(subject, "PURPOSE", "STATUS", "SINCE", "POLICY", "SEQ", "RECORDED")
    assert re.search(r"cookies_audience +expired", subject)
    rebuilt = run(filled, "projections", "rebuild").stdout
    assert re.search(r"from [\d,]+ entries in", rebuilt)
    replay = run(filled, "replay", "--subject", SUBJECTS["A"]).stdout
    assert re.search(r"\(\d+ entries\) chain intact", replay)
    everything = (status, retention, requests, breaches, disclosures, campaign, subject)
    for text in everything:
        _fits(text)
        assert "(s)" not in text
        assert not ISO_UTC.search(text), text  # times for people: the policy's zone
    assert "(times in Europe/Paris)" in retention


def test_long_cells_are_shortened_and_json_stays_whole(filled: dict[str, str],  # noqa: F811
                                                       tmp_path: Path) -> None:
    breach_id = "B-" + "x" * 60
    events = tmp_path / "b.jsonl"
    events.write_text(json.dumps(ev("BreachDetected", None, "2024-05-31T10:00:00Z",
                                    breach_id=breach_id, nature=["confidentiality"],
                                    risk="risk", description="lost laptop")) + "\n",
                      encoding="utf-8")
    run(filled, "append", str(events))
    text = run(filled, "breaches").stdout
    _fits(text)
    assert breach_id not in text and breach_id[:13] + "…" in text
    ids = [b["breach_id"] for b in js(filled, "breaches", "--json")["breaches"]]
    assert breach_id in ids


def test_accesses_in_the_policy_time_zone(filled: dict[str, str]) -> None:  # noqa: F811
    run(filled, "export", SUBJECTS["C"], "--reason", "request R1", "-o", "-")
    doc = js(filled, "accesses", "--json")
    assert doc["count"] == 1
    read = doc["accesses"][0]
    text = run(filled, "accesses").stdout
    _fits(text)
    _header(text, "SEQ", "OCCURRED", "ACTOR", "VIA", "VIEW", "SUBJECT")
    assert text.splitlines()[0] == "reads of personal data: 1 read (times in Europe/Paris)"
    assert read["occurred_at"] not in text and not ISO_UTC.search(text)
    assert human_time(read["occurred_at"], "Europe/Paris")[:16] in text
    assert "request R1" in text


def test_ropa_markdown_in_the_policy_time_zone(filled: dict[str, str]) -> None:  # noqa: F811
    doc = js(filled, "ropa", "--format", "json", "--as-of", "2024-06-01T12:00:00Z")
    assert doc["policy"]["effective_at"] == "2022-05-14T00:00:00.000000Z"  # JSON: UTC
    assert doc["policy"]["time_zone"] == "Europe/Paris"
    md = run(filled, "ropa", "--as-of", "2024-06-01T12:00:00Z").stdout
    assert ("in force from 2022-05-14 02:00 +02:00; record made at 2024-06-01 14:00 "
            "+02:00 (times in Europe/Paris).") in md
    assert not ISO_UTC.search(md)
    # plural forms: A's consent on 10 Jan 2023 and E's on 5 Jan; no collection of tracker
    # data for recruitment
    early = run(filled, "ropa", "--as-of", "2023-01-06").stdout
    assert "- seen in the ledger: 1 consent given, 0 refused, 0 withdrawn; 1 collection " \
        "from 1 subject; 0 disclosures" in early


def test_replay_takes_times_and_says_so() -> None:
    """Decision 37: --from/--to are times; seqs are --from-seq (ledger log)."""
    out = subprocess.run([sys.executable, "-m", "ledger.cli", "replay", "--help"],
                         capture_output=True, text=True, check=False).stdout
    assert "--from T" in out and "--to T" in out and "--from-seq" in out
    assert "the time T" in " ".join(out.split())
    assert "SEQ" not in out


# -- a subject unknown to the ledger -----------------------------------------------------------
def test_an_unknown_subject_is_said_to_be_unknown(filled: dict[str, str]) -> None:  # noqa: F811
    said = "no entry for this subject in the ledger"
    consent = run(filled, "consent", NOBODY)
    assert said in consent.stdout and " none" not in consent.stdout
    assert js(filled, "consent", NOBODY, "--json")["known"] is False
    assert js(filled, "consent", SUBJECTS["A"], "--json")["known"] is True
    for args in (("retention", "--subject"), ("disclosures", "--subject"),
                 ("replay", "--subject")):
        text = run(filled, *args, NOBODY).stdout
        assert said in text, args
        assert js(filled, *args, NOBODY, "--json")["known"] is False, args
        assert js(filled, *args, SUBJECTS["C"], "--json")["known"] is True, args
    export = run(filled, "export", NOBODY)
    assert said in export.stderr and json.loads(export.stdout)["known"] is False
    assert json.loads(run(filled, "export", SUBJECTS["C"]).stdout)["known"] is True
    pseudonym = js(filled, "consent", SUBJECTS["A"], "--json")["subject"]
    assert "known" not in run(filled, "consent", f"pseudonym:{pseudonym}").stdout
    assert said not in run(filled, "consent", f"pseudonym:{pseudonym}").stdout
    erased = run(filled, "consent", SUBJECTS["E"]).stdout  # erased is not unknown
    assert said not in erased


# -- bare dates: days of the policy's time zone -------------------------------------------------
# Two choices for one purpose on either side of midnight in Paris (CEST, UTC+2):
# 21:30Z on 12 May is 23:30 on the 12th in Paris; 22:30Z is 00:30 on the 13th.
LATE_12TH, EARLY_13TH = "2024-05-12T21:30:00Z", "2024-05-12T22:30:00Z"


def _midnight_events() -> list[dict[str, Any]]:
    return [ev("ConsentRefused", "F", LATE_12TH, purpose="cookies_advertising",
               method="banner"),
            ev("ConsentGiven", "G", EARLY_13TH, purpose="cookies_advertising",
               method="banner")]


@pytest.fixture
def midnight(filled: dict[str, str], tmp_path: Path) -> dict[str, str]:  # noqa: F811
    events = tmp_path / "midnight.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in _midnight_events()),
                      encoding="utf-8")
    run(filled, "append", str(events))
    return filled


def _choices(env: dict[str, str], *args: str) -> list[str]:
    doc = js(env, "consent", "--purpose", "cookies_advertising", *args, "--json")
    return [c["occurred_at"][:19] + "Z" for c in doc["choices"]]


def test_a_bare_date_is_a_day_in_the_policy_time_zone(midnight: dict[str, str]) -> None:
    assert _choices(midnight, "--from", "2024-05-12", "--to", "2024-05-12") == [LATE_12TH]
    assert _choices(midnight, "--from", "2024-05-13", "--to", "2024-05-13") == [EARLY_13TH]
    doc = js(midnight, "consent", "--purpose", "cookies_advertising", "--from", "2024-05-13",
             "--to", "2024-05-13", "--json")
    assert (doc["from"], doc["to"]) == ("2024-05-12T22:00:00.000000Z",
                                        "2024-05-13T21:59:59.999999Z")
    text = run(midnight, "consent", "--purpose", "cookies_advertising", "--from",
               "2024-05-13", "--to", "2024-05-13").stdout
    assert "from 2024-05-13 00:00 +02:00 to 2024-05-13 23:59 +02:00" in text
    # an offset stays exact
    assert _choices(midnight, "--from", "2024-05-13T00:00:00+02:00") == [EARLY_13TH]
    assert _choices(midnight, "--from", "2024-05-12T21:45:00Z") == [EARLY_13TH]
    # --as-of a date: by the end of that day in Paris, not in UTC
    def status(as_of: str) -> str:
        doc = js(midnight, "consent", SUBJECTS["G"], "--as-of", as_of, "--json")
        return str({p["purpose"]: p["status"] for p in doc["purposes"]}["cookies_advertising"])
    assert status("2024-05-12") == "none"
    assert status("2024-05-13") == "granted"
    retention = js(midnight, "retention", "--as-of", "2027-04-04", "--json")
    assert retention["as_of"] == "2027-04-04T21:59:59.999999Z"
    assert run(midnight, "retention", "--as-of", "2027-04-04").stdout.splitlines()[0] == \
        "retention at 2027-04-04 23:59 +02:00"
    winter = js(midnight, "breaches", "--known-at", "2026-03-03", "--json")
    assert winter["known_at"] == "2026-03-03T22:59:59.999999Z"  # CET, UTC+1
    replay = js(midnight, "replay", "--from", "2024-05-13", "--to", "2024-05-13", "--json")
    assert [e["occurred_at"][:19] + "Z" for e in replay["entries"]] == [EARLY_13TH]
    due = js(midnight, "retention", "--due-before", "2024-02-10", "--as-of",
             "2024-06-01T12:00:00Z", "--json")
    assert all(i["deadline"] <= "2024-02-10T22:59:59.999999Z" for i in due["items"])
    bad = run(midnight, "retention", "--as-of", "2024-02-30", code=2)
    assert "--as-of" in bad.stderr


@pytest.fixture
def api(ledger: Ledger, db_url: str, env: dict[str, str]) -> Iterator[Api]:
    build(ledger)
    ledger.append(_midnight_events())
    with api_for(ledger, db_url, env, routes=None) as a:  # None: the entry points
        yield a


def test_a_bare_date_over_http_is_a_day_in_the_policy_time_zone(api: Api) -> None:
    def choices(**params: str) -> list[str]:
        r = api.get("/v1/consents", params={"purpose": "cookies_advertising", **params})
        assert r.status_code == 200, r.text
        return [c["occurred_at"][:19] + "Z" for c in r.json()["choices"]]
    assert choices(**{"from": "2024-05-13", "to": "2024-05-13"}) == [EARLY_13TH]
    assert choices(**{"from": "2024-05-12", "to": "2024-05-12"}) == [LATE_12TH]
    consent = api.get(f"/v1/subjects/{quote(SUBJECTS['G'], safe='')}/consent",
                      as_="service", params={"as_of": "2024-05-12"})
    assert consent.status_code == 200, consent.text
    assert consent.json()["as_of"] == "2024-05-12T21:59:59.999999Z"
    assert {p["purpose"]: p["status"] for p in consent.json()["purposes"]}[
        "cookies_advertising"] == "none"
    retention = api.get("/v1/retention", params={"as_of": "2027-04-04"})
    assert retention.json()["as_of"] == "2027-04-04T21:59:59.999999Z"
    reads = api.get("/v1/accesses", params={"from": "2024-05-13"})
    assert reads.status_code == 200, reads.text


# -- records and sentences fit too (issue 13 item 10) ----------------------------------------
def _fits_but_words(text: str) -> None:
    """Every line fits :data:`WIDTH`, but a line that is one word (a hash, a key)."""
    too_wide = [line for line in text.splitlines()
                if len(line) > WIDTH and len(line.split()) > 1]
    assert not too_wide, too_wide


def test_records_and_sentences_fit(filled: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    long_evidence = {"form": "signup v2 " * 30, "sha256": "ab" * 32}
    late = tmp_path / "late.jsonl"
    late.write_text(json.dumps(ev("ConsentGiven", "A", "2024-06-01T10:00:00Z",
                                  purpose="cookies_audience", method="banner",
                                  evidence=long_evidence)) + "\n", encoding="utf-8")
    run(filled, "append", str(late))
    shown = run(filled, "show", "1").stdout
    full = run(filled, "log", "--full").stdout
    assert "signup v2 signup v2" in full  # wrapped, not cut
    replay = run(filled, "replay", "--subject", SUBJECTS["A"]).stdout
    bundle = tmp_path / "bundle"
    wrote = run(filled, "audit-bundle", "-o", str(bundle)).stdout
    kept = tmp_path / "kept.txt"
    kept.write_text(run(filled, "checkpoint").stdout, encoding="utf-8")
    checked = run(filled, "verify", "--bundle", str(bundle), "--checkpoint", str(kept)).stdout
    assert "does not prove:" in checked
    for text in (shown, full, replay, wrote, checked):
        _fits_but_words(text)
