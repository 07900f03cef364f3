"""The console's integrity page (issue 12), server-side, on both databases: the auditor's
page; the inclusion proof it shows is the prover's and verifies (checked here again with
the pure verifier) against the signed checkpoint; a wrong ``seq`` is refused naming it;
"Verify now" runs the verification, appends nothing and logs no personal value."""

from __future__ import annotations

import logging
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from ledger.app.application import Ledger
from ledger.app.proofs import prover_of
from ledger.errors import StorageError
from ledger.trust.ed25519 import verify_checkpoint_signature
from ledger.trust.merkle import verify_inclusion
from ledger.trust.notes import parse_checkpoint, parse_verifier_key
from projections.console.integrity_facts import inclusion_facts
from tests.console_kit import Web, console_app
from tests.inquiry_kit import fill

PERSONAL = ("camille.durand@example.fr", "sophie.bernard@example.fr", "Sophie", "Camille",
            "Bernard", "Durand")


def flat(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def english(web: Web, back: str = "/console/integrity") -> None:
    assert web.post("/console/language", {"lang": "en", "next": back}).status_code == 200


@pytest.fixture
def signed(ledger: Ledger, tmp_path: Path) -> Ledger:
    """The demo's day, a signed checkpoint of it, then one entry after it."""
    fill(ledger, tmp_path / "day")
    prover_of(ledger).checkpoint()
    ledger.append([{"type": "NoticePublished", "occurred_at": "2026-03-31T09:00:00+02:00",
                    "data": {"notice_id": "banner/v2", "kind": "banner", "language": "fr",
                             "text": "Nouvelle bannière."}}], default_actor="test")
    return ledger


def test_the_auditor_sees_the_integrity_page(signed: Ledger, db_url: str,
                                             env: dict[str, str]) -> None:
    prover = prover_of(signed)
    cp = prover.checkpoints()[-1]
    key = str(prover.verifier_key())
    head, _ = signed.head()
    with console_app(signed, db_url, env) as web:
        web.login("auditor")
        english(web)
        r = web.get("/console/integrity")
        assert r.status_code == 200
        text = flat(r.text)
        assert cp["root"] in r.text and f"{cp['tree_size']} / {head}" in text
        assert key in r.text  # the verifier key, to copy
        assert "Not verified since the server started." in text
        pub = web.get("/console/integrity/ledger.pub")
        assert pub.status_code == 200 and pub.text == key + "\n"
        for word in PERSONAL:
            assert word not in r.text


def test_the_inclusion_proof_verifies_against_the_signed_checkpoint(
        signed: Ledger, db_url: str, env: dict[str, str]) -> None:
    prover = prover_of(signed)
    cp = prover.checkpoints()[-1]
    size = int(cp["tree_size"])
    seq = size - 3
    expected = prover.inclusion(seq, size)
    with console_app(signed, db_url, env) as web:
        web.login("auditor")
        english(web)
        r = web.get(f"/console/integrity?seq={seq}")
    assert r.status_code == 200
    text = flat(r.text)
    assert f"Entry {seq} is leaf {seq - 1} of the tree of {size} entries: the proof " \
           "verifies." in text
    assert "Checked against the latest signed checkpoint" in text
    shown = re.findall(r'<td class="hash">([0-9a-f]{64})</td>', r.text)
    assert shown == expected["path"]
    assert expected["leaf_hash"] in r.text
    # the page's claim, checked here with the pure verifier, from what the page shows
    note = parse_checkpoint(cp["note"])
    verify_checkpoint_signature(note, parse_verifier_key(str(prover.verifier_key())))
    verify_inclusion(seq - 1, size, bytes.fromhex(expected["leaf_hash"]),
                     [bytes.fromhex(h) for h in shown], note.root)


def test_an_entry_after_the_checkpoint_is_proved_against_the_head(
        signed: Ledger, db_url: str, env: dict[str, str]) -> None:
    head, _ = signed.head()
    with console_app(signed, db_url, env) as web:
        web.login("dpo")
        english(web)
        text = flat(web.get(f"/console/integrity?seq={head}").text)
    assert f"Entry {head} is leaf {head - 1} of the tree of {head} entries" in text
    assert "newer than the latest signed checkpoint" in text


def test_a_proof_checked_with_another_key_does_not_verify(signed: Ledger,
                                                         tmp_path: Path) -> None:
    other, _ = Ledger.init(f"sqlite:///{tmp_path}/other.db",
                           env={"LEDGER_KEY_DIR": str(tmp_path / "other-keys")})
    try:
        foreign = str(prover_of(other).verifier_key())
    finally:
        other.close()
    out = inclusion_facts(signed, 3, foreign)
    assert out["signed"] and not out["verified"] and out["problem"]
    good = inclusion_facts(signed, 3, str(prover_of(signed).verifier_key()))
    assert good["verified"] and good["problem"] is None


@pytest.mark.parametrize(("seq", "rule"), [
    ("0", "must be between 1 and the ledger's size"),
    ("999999", "must be between 1 and the ledger's size"),
    ("abc", "must be a whole number from 1"),
    ("-2", "must be a whole number from 1"),
])
def test_a_wrong_seq_is_refused_naming_it(signed: Ledger, db_url: str, env: dict[str, str],
                                          seq: str, rule: str) -> None:
    with console_app(signed, db_url, env) as web:
        web.login("auditor")
        english(web)
        r = web.get(f"/console/integrity?seq={seq}")
    assert r.status_code == 422
    assert f"seq {rule}" in flat(r.text)
    assert 'aria-invalid="true"' in r.text


def test_verify_now_runs_the_verification_and_records_nothing(
        signed: Ledger, db_url: str, env: dict[str, str],
        caplog: pytest.LogCaptureFixture) -> None:
    head, _ = signed.head()
    with console_app(signed, db_url, env) as web, caplog.at_level(logging.DEBUG):
        web.login("dpo")
        english(web, "/console/overview")
        refused = web.post("/console/verify", {"back": "console-overview"}, csrf=None)
        assert refused.status_code == 403
        assert "Not verified since the server started." in flat(
            web.get("/console/overview").text)
        r = web.post("/console/verify", {"back": "console-overview"})
        assert r.status_code == 200 and r.url.path == "/console/overview"
        assert f"Verified: {head} entries, intact." in flat(r.text)
        # the same verdict on the integrity page (one holder per server)
        assert f"Verified: {head} entries, intact." in flat(web.get("/console/integrity").text)
    assert signed.head()[0] == head  # nothing appended
    logged = " ".join(rec.getMessage() for rec in caplog.records)
    for word in PERSONAL:
        assert word not in logged


def test_the_cosignatures_of_the_latest_checkpoint_are_shown(
        ledger: Ledger, db_url: str, env: dict[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A witness (the project's own, in a folder) cosigns the checkpoint: its answer is
    given to the push directly instead of over HTTP."""
    from ledger.app import witnessing
    from ledger.app.witness import Witness

    fill(ledger, tmp_path / "day")
    prover = prover_of(ledger)
    witness = Witness.init(tmp_path / "w1", "witness.example/w1")
    witness.add_log(str(prover.verifier_key()))
    witnessing.Witnessing(prover).attach(str(witness.key()), "http://witness.invalid/")
    monkeypatch.setattr(witnessing, "_post",
                        lambda url, body: (200, witness.add_checkpoint(body)))
    cp = prover.checkpoint()
    assert [w["ok"] for w in cp["witnesses"]] == [True]
    with console_app(ledger, db_url, env) as web:
        web.login("auditor")
        english(web)
        r = web.get("/console/integrity")
    text = flat(r.text)
    assert "Witness cosignatures witness.example/w1 (" in text
    note = re.search(r'<pre class="note hash"[^>]*>(.*?)</pre>', r.text, re.S)
    assert note is not None
    assert len(parse_checkpoint(unescape(note.group(1))).signatures) == 2  # log + witness


def _runner(web: Web) -> Any:
    """The server's verification runner (the app's console holds the server's context)."""
    return web.client.app.state.console.ctx.verifier  # type: ignore[attr-defined]


def test_a_failed_verification_and_a_run_that_could_not_be_made_are_said(
        signed: Ledger, db_url: str, env: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def failed() -> tuple[dict[str, Any], str]:
        return ({"ok": False, "entries": 11, "head": "ab" * 32, "first_bad_seq": 12,
                 "reason": "hash does not match the entry"}, "replica")

    async def cannot() -> tuple[dict[str, Any], str]:
        raise StorageError("ledger verify exited with 3: the database is unreachable")

    with console_app(signed, db_url, env) as web:
        web.login("auditor")
        english(web)
        monkeypatch.setattr(_runner(web), "run_served", failed)
        text = flat(web.post("/console/verify", {"back": "console-integrity"}).text)
        assert "Verification FAILED at entry 12: hash does not match the entry" in text
        assert "on the replica database" in text
        monkeypatch.setattr(_runner(web), "run_served", cannot)
        r = web.post("/console/verify", {"back": "console-integrity"})
        assert r.status_code == 200
        text = flat(r.text)
        assert "could not run: ledger verify exited with 3: the database is unreachable" \
            in text
        assert "Verification FAILED at entry 12" in text  # the last verdict stays shown


def test_a_very_long_seq_gets_the_page_too(signed: Ledger, db_url: str,
                                           env: dict[str, str]) -> None:
    with console_app(signed, db_url, env) as web:
        web.login("auditor")
        english(web)
        r = web.get("/console/integrity?seq=" + "9" * 200)
    assert r.status_code == 422
    assert "seq must be between 1 and the ledger's size" in flat(r.text)
