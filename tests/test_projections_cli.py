"""The read commands through the ``ledger`` executable (subprocess), on both databases."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.projections_history import SECRETS, SUBJECTS, history

LEDGER = str(Path(sys.executable).with_name("ledger"))


def run(env: dict[str, str], *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([LEDGER, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == code, (args, done.stdout[-1500:], done.stderr[-1500:])
    return done


def js(env: dict[str, str], *args: str) -> Any:
    return json.loads(run(env, *args).stdout)


@pytest.fixture
def filled(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    run(cli_env, "init")
    run(cli_env, "policy", "publish", "bundled")
    events = tmp_path / "history.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for call in history() for e in call),
                      encoding="utf-8")
    run(cli_env, "append", str(events))
    return cli_env


def test_projection_status_and_rebuild(filled: dict[str, str]) -> None:
    before = js(filled, "projections", "status", "--json")["projections"]
    assert {p["projection"] for p in before} == {"consent", "retention", "requests",
                                                "breaches", "disclosures", "accesses"}
    assert {p["lag"] for p in before} == {before[0]["head"]}  # nothing projected yet
    done = js(filled, "projections", "rebuild", "--json")
    assert {p["lag"] for p in done["projections"]} == {0}
    assert done["entries"] == before[0]["head"]
    one = js(filled, "projections", "rebuild", "retention", "--json")
    assert one["rebuilt"] == ["retention"]
    text = run(filled, "projections", "status").stdout
    assert "retention" in text and "up to date" in text
    bad = run(filled, "projections", "rebuild", "nosuch", code=2)
    assert "NAME" in bad.stderr or "invalid choice" in bad.stderr


def test_consent_command(filled: dict[str, str]) -> None:
    doc = js(filled, "consent", SUBJECTS["E"], "--json", "--as-of", "2023-01-05T09:58:00Z")
    states = {p["purpose"]: p["status"] for p in doc["purposes"]}
    assert states["cookies_audience"] == "none"
    doc = js(filled, "consent", SUBJECTS["E"], "--json", "--as-of", "2023-01-06",
             "--known-at", "2099-01-01T00:00:00Z")
    assert {p["purpose"]: p["status"] for p in doc["purposes"]}["cookies_audience"] \
        == "granted"
    text = run(filled, "consent", f"pseudonym:{doc['subject']}", "--as-of",
               "2023-03-01").stdout
    assert "cookies_audience" in text and "granted" in text
    # now, past the bundled policy's 6-month consent_validity, the same consent has lapsed
    text = run(filled, "consent", f"pseudonym:{doc['subject']}").stdout
    assert re.search(r"cookies_audience +expired", text) and "ask again" in text
    bad = run(filled, "consent", SUBJECTS["E"], "--as-of", "yesterday", code=2)
    assert "--as-of" in bad.stderr and "RFC 3339" in bad.stderr


def test_retention_requests_breaches_commands(filled: dict[str, str]) -> None:
    doc = js(filled, "retention", "--at", "2024-06-01T12:00:00Z", "--json")
    assert doc["counts"] == {"active": 1, "due": 1, "overdue": 1, "held": 1, "erased": 1,
                             "anonymised": 1}
    overdue = js(filled, "retention", "--at", "2024-06-01T12:00:00Z", "--status", "overdue",
                 "--json")["items"]
    assert [i["deadline"] for i in overdue] == ["2024-02-10T10:01:00.000000Z"]
    due = js(filled, "retention", "--at", "2024-06-01T12:00:00Z", "--due-before",
             "2024-07-02", "--json")["items"]
    assert len(due) == 2
    assert "overdue" in run(filled, "retention", "--at", "2024-06-01T12:00:00Z").stdout
    run(filled, "retention", "--status", "gone", code=2)

    reqs = js(filled, "requests", "--open", "--at", "2024-06-01T12:00:00Z", "--json")
    assert sorted(r["request_id"] for r in reqs["requests"]) == ["R1", "R2", "R3"]
    late = js(filled, "requests", "--overdue", "--at", "2024-06-01T12:00:00Z", "--json")
    assert [r["request_id"] for r in late["requests"]] == ["R1"]
    assert "OVERDUE" in run(filled, "requests", "--at", "2024-06-01T12:00:00Z").stdout

    reg = js(filled, "breaches", "--at", "2024-06-01T12:00:00Z", "--json")
    assert {b["breach_id"]: b["status"] for b in reg["breaches"]} == {
        "B1": "on_time", "B2": "late_with_reason", "B3": "pending", "B4": "not_required"}
    assert "late_with_reason" in run(filled, "breaches", "--at", "2024-06-01").stdout


def test_every_register_takes_as_of_and_known_at(filled: dict[str, str]) -> None:
    for cmd in ("retention", "requests", "breaches", "disclosures"):
        new = js(filled, cmd, "--as-of", "2024-05-12", "--json")
        assert new == js(filled, cmd, "--at", "2024-05-12", "--json"), cmd  # the old name
        assert new["as_of"] == "2024-05-12T21:59:59.999999Z", cmd  # the end of the day in Paris
        # the history was recorded when the fixture ran: known in 2020, nothing yet
        early = js(filled, cmd, "--as-of", "2024-05-12", "--known-at", "2020-01-01", "--json")
        assert early["known_at"] == "2020-01-01T22:59:59.999999Z"
        assert not early.get("items") and not early.get("requests") \
            and not early.get("breaches") and not early.get("disclosures"), cmd
    both = run(filled, "requests", "--at", "2024-05-12", "--as-of", "2024-05-13", code=2)
    assert "--at" in both.stderr
    assert "deprecated" in run(filled, "retention", "--help").stdout
    breaches = js(filled, "breaches", "--as-of", "2024-05-12", "--json")["breaches"]
    assert [b["breach_id"] for b in breaches] == ["B1", "B2"]  # B3, B4: later in May
    assert js(filled, "disclosures", "--as-of", "2024-05-01", "--json")["count"] == 0
    assert js(filled, "disclosures", "--json")["count"] == 1
    assert "logistics" in run(filled, "disclosures", "--as-of", "2024-05-03").stdout
    ropa = js(filled, "ropa", "--format", "json", "--as-of", "2023-01-10")
    seen = {p["id"]: p["seen"] for p in ropa["purposes"]}
    assert seen["cookies_audience"]["consents_granted"] == 2  # A on 10 Jan, E on 5 Jan
    export = js(filled, "export", SUBJECTS["A"], "--as-of", "2023-01-10T10:00:30Z")
    assert [e["type"] for e in export["events"]] == ["ConsentGiven"]


def test_export_command(filled: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    run(filled, "export", SUBJECTS["C"], "-o", str(out))
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "ledger-export/1"
    assert doc["collections"][0]["values"]["email"] == "claire.martin@example.org"
    zipped = tmp_path / "e.zip"
    run(filled, "export", SUBJECTS["E"], "--format", "csv", "-o", str(zipped))
    with zipfile.ZipFile(zipped) as z:
        names = set(z.namelist())
        blob = "".join(z.read(n).decode("utf-8") for n in names)
    assert {"consents.csv", "collections.csv", "collected_values.csv", "events.csv"} <= names
    for secret in (*SECRETS["E"], SUBJECTS["E"]):
        assert secret not in blob
    erased = js(filled, "export", SUBJECTS["E"])
    assert erased["erased"] is True


def test_ropa_command(filled: dict[str, str]) -> None:
    doc = js(filled, "ropa", "--format", "json")
    assert doc["policy"]["version"] == "2022-05-14"
    assert {p["id"]: p["seen"]["collections"] for p in doc["purposes"]}["cookies_audience"] \
        == 3
    md = run(filled, "ropa").stdout
    assert md.startswith("# Record of processing activities")
    assert "## Security measures" in md


def test_replay_command(filled: dict[str, str]) -> None:
    doc = js(filled, "replay", "--subject", SUBJECTS["C"], "--type", "DataCollected",
             "RightsRequestReceived", "--json")
    assert [e["type"] for e in doc["entries"]] == ["DataCollected", "RightsRequestReceived",
                                                  "RightsRequestReceived"]
    assert doc["entries"][0]["data"]["values"]["first_name"] == "Claire"
    assert doc["verification"]["ok"] is True
    ranged = js(filled, "replay", "--from", "2024-05-01", "--to", "2024-05-10T08:00:00Z",
                "--json")
    times = [e["occurred_at"] for e in ranged["entries"]]
    assert min(times) == "2024-05-01T08:00:00.000000Z"  # a bare --from date: from its start
    assert times and all("2024-05-01" <= x[:10] <= "2024-05-10" for x in times)
    text = run(filled, "replay", "--subject", SUBJECTS["E"]).stdout
    assert "[erased]" in text and SECRETS["E"][0] not in text
    assert "chain intact" in text
    run(filled, "replay", "--type", "NoSuchType", code=2)
