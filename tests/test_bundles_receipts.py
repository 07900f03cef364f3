"""Audit bundles and receipts: they verify offline, and every tampering is caught."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ledger.app.application import Ledger
from ledger.app.bundle import write_bundle
from ledger.app.bundle_verify import verify_bundle
from ledger.app.proofs import prover_of
from ledger.app.receipts import make_receipt
from ledger.errors import InputError, VerificationError
from ledger.trust.notes import parse_checkpoints
from ledger.trust.receipt_check import verify_receipt
from tests.proof_helpers import b64, fill, other_key, resign


@pytest.fixture
def bundle(ledger: Ledger, tmp_path: Path) -> tuple[Path, str]:
    p = prover_of(ledger)
    fill(ledger, 30)
    p.checkpoint()
    fill(ledger, 45)
    p.checkpoint()
    fill(ledger, 52)              # audit-bundle signs the head (52) itself
    out = tmp_path / "bundle"
    info = write_bundle(p, out)
    assert info["entries"] == 52 and info["checkpoints"] == 3
    return out, str(p.verifier_key())


def test_a_bundle_verifies_offline(bundle: tuple[Path, str]) -> None:
    folder, key = bundle
    assert sorted(f.name for f in folder.iterdir()) == ["README", "checkpoints.txt",
                                                       "entries.jsonl", "pubkey"]
    report = verify_bundle(folder, key)
    assert report.ok, report.reason
    assert (report.first_seq, report.last_seq, report.entries) == (1, 52, 52)
    assert report.checkpoints == [30, 45, 52]
    assert verify_bundle(folder).ok  # key from the bundle itself
    line = (folder / "entries.jsonl").read_bytes().split(b"\n")[0]
    import hashlib
    assert hashlib.sha256(line[65:]).hexdigest().encode() == line[:64]


def _edit_entry(folder: Path) -> None:
    lines = (folder / "entries.jsonl").read_bytes().split(b"\n")
    lines[9] = lines[9].replace(b'"method":"form"', b'"method":"fort"')
    (folder / "entries.jsonl").write_bytes(b"\n".join(lines))


def _edit_entry_and_hash(folder: Path) -> None:
    """Edit entry 10 and recompute the hashes and links of everything after it."""
    from ledger.trust.chain import Entry, entry_hash
    lines = (folder / "entries.jsonl").read_bytes().rstrip(b"\n").split(b"\n")
    prev = None
    out = []
    for i, original in enumerate(lines):
        line = original
        entry = json.loads(line[65:])
        if i >= 9:
            entry["prev_hash"] = prev
            if i == 9:
                entry["actor"] = "forger"
            data = Entry.from_json(entry).canonical()
            line = entry_hash(data).encode() + b" " + data
        prev = line[:64].decode()
        out.append(line)
    (folder / "entries.jsonl").write_bytes(b"\n".join(out) + b"\n")


def _drop_entry(folder: Path) -> None:
    lines = (folder / "entries.jsonl").read_bytes().split(b"\n")
    del lines[20]
    (folder / "entries.jsonl").write_bytes(b"\n".join(lines))


def _drop_tail(folder: Path) -> None:
    lines = (folder / "entries.jsonl").read_bytes().split(b"\n")
    (folder / "entries.jsonl").write_bytes(b"\n".join(lines[:48]) + b"\n")


def _resign_other_key(folder: Path) -> None:
    cps = parse_checkpoints((folder / "checkpoints.txt").read_text())
    seed, key = other_key(cps[0].origin)
    notes = [resign(c.origin, c.size, c.root, seed, key) for c in cps]
    (folder / "checkpoints.txt").write_text("".join(n + "\n" for n in notes))
    (folder / "pubkey").write_text(str(key) + "\n")


def _edit_root(folder: Path) -> None:
    text = (folder / "checkpoints.txt").read_text()
    cps = parse_checkpoints(text)
    good = b64(cps[1].root)
    bad = b64(bytes(32))
    (folder / "checkpoints.txt").write_text(text.replace(good, bad))


ATTACKS: dict[str, tuple[Callable[[Path], None], str]] = {
    "entry edited": (_edit_entry, "stored hash does not match"),
    "entry edited, chain rehashed": (_edit_entry_and_hash, "differs from the signed"),
    "entry dropped": (_drop_entry, "missing"),
    "tail dropped below a checkpoint": (_drop_tail, "beyond the bundle's last entry"),
    "checkpoints re-signed with another key": (_resign_other_key, "no signature by key"),
    "checkpoint root edited": (_edit_root, "bad signature"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_bundle_tampering_is_caught(attack: str, bundle: tuple[Path, str]) -> None:
    folder, key = bundle
    fn, reason = ATTACKS[attack]
    fn(folder)
    report = verify_bundle(folder, key)   # the auditor's own copy of the key
    assert not report.ok
    assert reason in (report.reason or ""), report.reason
    for workers in (2, 3, 5):  # slices checked in other processes: the same verdict
        split = verify_bundle(folder, key, workers=workers)
        assert (split.ok, split.first_bad_seq) == (False, report.first_bad_seq)
        assert reason in (split.reason or "") or split.first_bad_seq is not None


def test_a_bundle_checked_in_slices_gives_the_single_pass_verdict(
        bundle: tuple[Path, str]) -> None:
    folder, key = bundle
    one = verify_bundle(folder, key)
    for workers in (2, 3, 7):
        split = verify_bundle(folder, key, workers=workers)
        assert split.as_dict() == one.as_dict()
    lines = (folder / "entries.jsonl").read_bytes().split(b"\n")
    for k in (1, 17, 26, 40, 51):   # a broken link at many places, slice joins included
        broken = list(lines)
        broken[k] = broken[k].replace(b'"prev_hash":"', b'"prev_hash":"0', 1)[:-1] + b"}"
        (folder / "entries.jsonl").write_bytes(b"\n".join(broken))
        verdicts = {(r.ok, r.first_bad_seq) for r in
                    (verify_bundle(folder, key, workers=w) for w in (1, 2, 3, 4))}
        assert verdicts == {(False, k + 1)}
    (folder / "entries.jsonl").write_bytes(b"\n".join(lines).rstrip(b"\n"))
    verdicts = {(r.ok, r.first_bad_seq) for r in
                (verify_bundle(folder, key, workers=w) for w in (1, 3))}
    assert verdicts == {(False, 52)}


def test_a_bundle_from_the_middle_says_what_it_proves(ledger: Ledger,
                                                      tmp_path: Path) -> None:
    p = prover_of(ledger)
    fill(ledger, 300)
    p.checkpoint()
    fill(ledger, 320)
    key = str(p.verifier_key())
    for start in (2, 200, 257, 300, 301, 320):
        out = tmp_path / f"from{start}"
        write_bundle(p, out, start)
        report = verify_bundle(out, key)
        assert report.ok, (start, report.reason)
        assert (report.first_seq, report.last_seq) == (start, 320)
        assert report.checkpoints == ([300, 320] if start <= 301 else [320])
        assert any("1.." in s for s in report.does_not_prove)
    # the prefix is bound: a forged frontier or last hash is refused
    prefix = json.loads((tmp_path / "from200" / "prefix.json").read_text())
    forged = dict(prefix, last_hash="ab" * 32)
    bad = tmp_path / "bad"
    shutil.copytree(tmp_path / "from200", bad)
    (bad / "prefix.json").write_text(json.dumps(forged))
    assert "prefix" in (verify_bundle(bad, key).reason or "")
    frontier = list(prefix["frontier"])
    frontier[0] = "00" * 32
    (bad / "prefix.json").write_text(json.dumps(dict(prefix, frontier=frontier)))
    assert not verify_bundle(bad, key).ok
    with pytest.raises(InputError, match="between 1 and"):
        write_bundle(p, tmp_path / "x", 321)
    with pytest.raises(InputError, match="new or empty folder"):
        write_bundle(p, tmp_path / "from2", 1)


# -- receipts --------------------------------------------------------------------------
@pytest.fixture
def receipt(ledger: Ledger) -> tuple[dict[str, Any], str]:
    p = prover_of(ledger)
    fill(ledger, 20)
    r = make_receipt(p, 6)   # a ConsentGiven (even seq): no checkpoint yet, one is signed
    return r, str(p.verifier_key())


def test_a_receipt_verifies_anywhere(receipt: tuple[dict[str, Any], str]) -> None:
    r, key = receipt
    out = verify_receipt(json.loads(json.dumps(r)), key)
    assert out["seq"] == 6 and out["type"] == "ConsentGiven" and out["tree_size"] == 20
    assert r["consentReceiptID"] == json.loads(r["ledger"]["entry"])["event_id"]
    assert r["services"][0]["service"] == "Recruitment management"  # the policy's purpose
    assert r["collectionMethod"] == "form"
    assert r["piiControllers"][0]["piiController"]
    assert r["piiPrincipalId"].startswith("pseudonym:")
    assert "sealed:v1:" in r["ledger"]["entry"]   # sealed values stay sealed
    assert verify_receipt(r)["key_from"].startswith("read from the receipt")


def _flip_hex(h: str) -> str:
    return ("1" if h[0] == "0" else "0") + h[1:]


RECEIPT_ATTACKS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "entry edited": (lambda r: r["ledger"].update(
        entry=r["ledger"]["entry"].replace('"method":"form"', '"method":"paper"')),
        "stored hash does not match"),
    "purpose edited": (lambda r: r["services"][0]["purposes"][0].update(purpose="marketing"),
                       "summary fields differ"),
    "service renamed": (lambda r: r["services"][0].update(service="Marketing"),
                        "summary fields differ"),
    "proof bit flipped": (lambda r: r["ledger"]["proof"]["path"].__setitem__(
        0, _flip_hex(r["ledger"]["proof"]["path"][0])), "does not lead to the root"),
    "policy entry swapped": (lambda r: r["ledger"].update(policy=None),
                             "summary fields differ"),
}


@pytest.mark.parametrize("attack", list(RECEIPT_ATTACKS))
def test_receipt_tampering_is_caught(attack: str,
                                     receipt: tuple[dict[str, Any], str]) -> None:
    r, key = receipt
    fn, reason = RECEIPT_ATTACKS[attack]
    fn(r)
    with pytest.raises(VerificationError, match=reason):
        verify_receipt(r, key)


def test_a_receipt_re_signed_with_another_key_is_caught(
        receipt: tuple[dict[str, Any], str]) -> None:
    r, key = receipt
    from ledger.trust.notes import parse_checkpoint
    cp = parse_checkpoint(r["ledger"]["checkpoint"])
    seed, k2 = other_key(cp.origin)
    r["ledger"]["checkpoint"] = resign(cp.origin, cp.size, cp.root, seed, k2)
    r["ledger"]["publicKey"] = str(k2)
    assert verify_receipt(r)["ok"]          # consistent with itself…
    with pytest.raises(VerificationError, match="no signature by key"):
        verify_receipt(r, key)              # …but not with the auditor's key


# -- offline extension: the bundle against a checkpoint the auditor kept -------------------
def test_a_bundle_extends_the_checkpoint_the_auditor_kept(ledger: Ledger,
                                                          tmp_path: Path) -> None:
    p = prover_of(ledger)
    fill(ledger, 20)
    kept = parse_checkpoints(p.checkpoint()["note"] + "\n")  # taken home at a visit
    fill(ledger, 40)                                      # events appended meanwhile
    write_bundle(p, tmp_path / "b")
    key = str(p.verifier_key())
    report = verify_bundle(tmp_path / "b", key, kept=kept)
    assert report.ok, report.reason
    assert report.kept == [20] and 20 in report.checkpoints
    assert any("the checkpoint you kept (size 20)" in line for line in report.proves)
    # a bundle that starts after the kept size cannot prove it
    write_bundle(p, tmp_path / "late", from_seq=25)
    late = verify_bundle(tmp_path / "late", key, kept=kept)
    assert not late.ok and "cannot be checked here" in (late.reason or "")


def test_a_rewritten_or_cut_ledger_fails_against_the_kept_checkpoint(
        db_url: str, env: dict[str, str], tmp_path: Path) -> None:
    """The operator holds the signing key: a rewrite is re-signed, a cut is re-signed,
    and only the checkpoint the auditor kept tells."""
    import base64
    import secrets

    from ledger.domain.policy import bundled_policy

    seed = base64.b64encode(secrets.token_bytes(32)).decode()
    first_env = {**env, "LEDGER_SIGNING_KEY": seed}
    led, _ = Ledger.init(db_url, env=first_env)
    try:
        led.publish_policy(bundled_policy())
        fill(led, 20)
        kept = parse_checkpoints(prover_of(led).checkpoint()["note"] + "\n")
        key = str(prover_of(led).verifier_key())
    finally:
        led.close()
    # another history, same key and origin: a rewrite signed anew (an SQLite file here)
    other_url = f"sqlite:///{tmp_path}/rewritten.db"
    other_env = {"LEDGER_KEY_DIR": str(tmp_path / "k2"), "LEDGER_SIGNING_KEY": seed}
    other, _ = Ledger.init(other_url, env=other_env)
    try:
        other.publish_policy(bundled_policy())
        fill(other, 7)
        fill(other, 30)  # other events: different hashes from seq 2 on
        write_bundle(prover_of(other), tmp_path / "rewritten")
        rewritten = verify_bundle(tmp_path / "rewritten", key, kept=kept)
        assert verify_bundle(tmp_path / "rewritten", key).ok  # fine on its own…
        assert not rewritten.ok                             # …not against what was kept
        assert rewritten.first_bad_seq == 20
        assert "differs from the checkpoint you kept" in (rewritten.reason or "")
    finally:
        other.close()
    # cut back below the kept size and re-signed
    cut_url = f"sqlite:///{tmp_path}/cut.db"
    cut, _ = Ledger.init(cut_url, env={"LEDGER_KEY_DIR": str(tmp_path / "k3"),
                                       "LEDGER_SIGNING_KEY": seed})
    try:
        cut.publish_policy(bundled_policy())
        fill(cut, 12)
        write_bundle(prover_of(cut), tmp_path / "cut")
        report = verify_bundle(tmp_path / "cut", key, kept=kept)
        assert not report.ok and "entries are missing" in (report.reason or "")
    finally:
        cut.close()
    # a kept checkpoint signed by another key is refused
    seed2, key2 = other_key(kept[0].origin)
    forged = parse_checkpoints(resign(kept[0].origin, kept[0].size, kept[0].root, seed2,
                                      key2) + "\n")
    assert not verify_bundle(tmp_path / "cut", key, kept=forged).ok
