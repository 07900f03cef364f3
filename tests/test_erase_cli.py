"""``ledger erase``: shows what it destroys, asks on a terminal, ``--yes`` for scripts,
``--dry-run`` changes nothing, a legal hold still refuses (issue 13 item 10); and the
application's :meth:`Ledger.erasure_preview` that computes what would be destroyed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from ledger.app.application import Ledger
from tests.helpers import collect, consent

SUBJECT = "a@x.fr"
HOLD = {"type": "LegalHoldPlaced", "subject": SUBJECT, "occurred_at": "2024-05-02T10:00:00Z",
        "data": {"hold_id": "HOLD-7", "basis": "pre_litigation", "matter": "CASE-7"}}


def run(cli_env: dict[str, str], *args: str, stdin: str | None = "") \
        -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli", *args], env=cli_env,
                          input=stdin, capture_output=True, text=True, timeout=120,
                          check=False)


def jsonl(*events: object) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def _state(cli_env: dict[str, str]) -> tuple[Any, ...]:
    """The ledger's head and its subject's key rows (epoch, scope, wrapped key)."""
    with Ledger.open(cli_env["LEDGER_DATABASE_URL"], env=cli_env) as ledger:
        pseudonym = ledger.pseudonym(SUBJECT)
        keys = ledger.store.read(lambda tx: tx.keys([pseudonym]))
        return ledger.head(), sorted((k.scope, k.epoch, k.wrapped) for k in keys)


@pytest.fixture
def filled(cli_env: dict[str, str]) -> dict[str, str]:
    """A ledger with a consent (personal evidence) and two collections of ``SUBJECT``."""
    assert run(cli_env, "init").returncode == 0
    assert run(cli_env, "policy", "publish", "bundled").returncode == 0
    events = [consent(SUBJECT, evidence="signed form 12"), collect(SUBJECT),
              collect(SUBJECT, category="application", values={"position": "SRE"}),
              consent("b@x.fr", evidence="other")]
    assert run(cli_env, "append", stdin=jsonl(*events)).returncode == 0
    return cli_env


def test_dry_run_shows_what_would_be_destroyed_and_changes_nothing(
        filled: dict[str, str]) -> None:
    before = _state(filled)
    assert len(before[1]) == 3  # the subject's own fields, two categories
    out = run(filled, "erase", SUBJECT, "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "would destroy 3 data keys" in out.stdout
    assert "categories of data: application, identification_contact" in out.stdout
    assert "events of this subject: 3 (ConsentGiven 1, DataCollected 2)" in out.stdout
    assert "3 entries would then read [erased]" in out.stdout
    for personal in (SUBJECT, "Durand", "SRE", "signed form"):
        assert personal not in out.stdout + out.stderr
    as_json = json.loads(run(filled, "erase", SUBJECT, "--dry-run", "--json").stdout)
    assert as_json["keys"] == 3 and as_json["events"] == 3 and as_json["blocked"] is None
    assert as_json["categories"] == ["application", "identification_contact"]
    assert _state(filled) == before  # same head, same key rows
    shown = json.loads(run(filled, "show", "3", "--json").stdout)
    assert shown["data"]["values"]["last_name"] == "Durand"


def test_without_a_terminal_erase_needs_yes(filled: dict[str, str]) -> None:
    before = _state(filled)
    refused = run(filled, "erase", SUBJECT, "--ground", "consent_withdrawn")
    assert refused.returncode == 2
    assert "--yes" in refused.stderr and "not a terminal" in refused.stderr
    assert refused.stdout == "" and _state(filled) == before
    done = run(filled, "erase", SUBJECT, "--ground", "consent_withdrawn", "--yes")
    assert done.returncode == 0, done.stderr
    receipt = json.loads(done.stdout)  # stdout: the receipt alone, as before
    assert set(receipt) == {"seq", "event_id", "hash"} and receipt["seq"] == 6
    assert "3 data keys destroyed, 3 entries now read [erased]" in done.stderr
    head, keys = _state(filled)
    assert head[0] == 6
    assert all(wrapped is None for _, _, wrapped in keys)  # no key left to open them
    assert json.loads(run(filled, "show", "3", "--json").stdout)["data"]["values"][
        "last_name"] == "[erased]"
    assert run(filled, "erase", SUBJECT, "--json", "--yes").returncode == 2  # --json: dry run


def _on_a_terminal(cli_env: dict[str, str], answer: str) -> subprocess.CompletedProcess[str]:
    """``ledger erase SUBJECT`` with a pseudo-terminal as stdin, answering ``answer``."""
    main, tty = os.openpty()
    try:
        os.write(main, answer.encode() + b"\n")
        return subprocess.run([sys.executable, "-m", "ledger.cli", "erase", SUBJECT],
                              env=cli_env, stdin=tty, capture_output=True, text=True,
                              timeout=120, check=False)
    finally:
        os.close(tty)
        os.close(main)


def test_on_a_terminal_erase_asks_first(filled: dict[str, str]) -> None:
    before = _state(filled)
    declined = _on_a_terminal(filled, "no")
    assert declined.returncode == 2
    assert "would destroy" not in declined.stderr and "will destroy 3 data keys" \
        in declined.stderr
    assert "Type yes to erase" in declined.stderr and "not erased" in declined.stderr
    assert declined.stdout == "" and _state(filled) == before
    accepted = _on_a_terminal(filled, "yes")
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["seq"] == 6
    assert _state(filled)[0][0] == 6


def test_a_legal_hold_still_refuses_with_the_hold_named(filled: dict[str, str]) -> None:
    assert run(filled, "append", stdin=jsonl(HOLD)).returncode == 0
    before = _state(filled)
    for args in (["--yes"], ["--dry-run"], []):
        out = run(filled, "erase", SUBJECT, *args)
        assert out.returncode == 2, args
        assert "HOLD-7" in out.stderr and "legal hold" in out.stderr
    dry = run(filled, "erase", SUBJECT, "--dry-run")
    assert "active legal holds: HOLD-7" in dry.stdout and "refused:" in dry.stdout
    assert _state(filled) == before


def test_an_unknown_subject_is_said_unknown(filled: dict[str, str]) -> None:
    out = run(filled, "erase", "nobody@x.fr", "--dry-run")
    assert out.returncode == 2
    assert "unknown to this ledger" in out.stdout and "nobody" not in out.stdout
    assert "no recorded history" in out.stderr


def test_erasure_preview_counts_keys_categories_and_events(ledger: Ledger) -> None:
    ledger.append([consent(SUBJECT, evidence="e"), collect(SUBJECT),
                   collect(SUBJECT, category="application", values={"position": "SRE"})])
    preview = ledger.erasure_preview(SUBJECT)
    assert preview.pseudonym == ledger.pseudonym(SUBJECT)
    assert (preview.events, preview.keys, preview.unreadable_after) == (3, 3, 3)
    assert preview.by_type == {"ConsentGiven": 1, "DataCollected": 2}
    assert preview.scopes == ["application", "identification_contact", "subject"]
    assert preview.categories == ["application", "identification_contact"]
    assert preview.holds == [] and preview.blocked is None
    assert "SRE" not in json.dumps(preview.as_dict()) and SUBJECT not in str(preview)
    head = ledger.head()
    ledger.append([HOLD])
    held = ledger.erasure_preview(SUBJECT)
    assert held.holds == ["HOLD-7"] and "HOLD-7" in (held.blocked or "")
    assert ledger.head()[0] == head[0] + 1  # the preview itself appended nothing
    ledger.append([{"type": "LegalHoldReleased", "subject": SUBJECT,
                    "occurred_at": "2024-05-03T10:00:00Z", "data": {"hold_id": "HOLD-7"}}])
    ledger.erase(SUBJECT, ground="consent_withdrawn")
    after = ledger.erasure_preview(SUBJECT)
    assert (after.keys, after.unreadable_after) == (0, 0)
    assert "already erased" in (after.blocked or "")
    unknown = ledger.erasure_preview("nobody@x.fr")
    assert unknown.events == 0 and "no recorded history" in (unknown.blocked or "")
