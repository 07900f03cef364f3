"""Offline check of an inquiry pack (``ledger verify --inquiry DIR``): no database, no key.

A pack (docs/FORMAT.md §17) holds ``figures.json`` and ``evidence/``: an audit bundle
(§12), ``checkpoint.txt`` (the signed checkpoint the report is anchored to) and
``proofs.jsonl`` (each cited entry's canonical bytes and inclusion proof).
:func:`check_inquiry` checks, stopping at the first failure:

    (1) the bundle, as ``ledger verify --bundle`` does (chain, signatures, roots);
    (2) ``checkpoint.txt`` is signed by the key, is one of the bundle's checkpoints and
        covers the whole bundle;
    (3) every line of ``proofs.jsonl``: the entry's SHA-256 is its hash, its ``seq`` is
        the line's, the inclusion proof leads to the checkpoint's root, and, when the
        entry lies in the bundle, the bundle's line carries the same hash;
    (4) every event the report cites (``figures.json`` ``cited``) has a proof line with
        its hash;
    (5) every figure equals its count over the bundle's entries (:func:`matches`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.errors import VerificationError
from ledger.trust.bundle_check import verify_bundle
from ledger.trust.cosignature import Quorum
from ledger.trust.ed25519 import verify_checkpoint_signature
from ledger.trust.merkle import leaf_hash, verify_inclusion
from ledger.trust.notes import parse_checkpoint, parse_verifier_key

__all__ = ["InquiryReport", "check_inquiry", "matches", "recount"]


@dataclass
class InquiryReport:
    ok: bool = False
    entries: int = 0
    first_seq: int = 0
    last_seq: int = 0
    proofs: int = 0
    figures: int = 0
    key_from: str = ""
    first_bad_seq: int | None = None
    reason: str | None = None
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    witnessed: list[dict[str, object]] | None = None  # with a quorum: who cosigned, when

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "first_seq": self.first_seq, "last_seq": self.last_seq,
                "entries": self.entries, "proofs_verified": self.proofs,
                "figures_recounted": self.figures, "key_from": self.key_from,
                "first_bad_seq": self.first_bad_seq, "reason": self.reason,
                "mismatches": self.mismatches,
                **({"witnessed": self.witnessed} if self.witnessed is not None else {})}


def matches(entry: dict[str, Any], rule: dict[str, Any]) -> bool:
    """Whether an entry is counted by a figure's rule (docs/FORMAT.md §17): its type is one
    of ``types``, its ``occurred_at`` lies in [``from``, ``to``], its ``recorded_at`` is at
    or before ``known_at`` (when given), each ``payload`` member equals the entry's, and
    its subject is one of ``subjects`` (when given)."""
    if entry["type"] not in rule["types"]:
        return False
    if not rule["from"] <= entry["occurred_at"] <= rule["to"]:
        return False
    if rule.get("known_at") and entry["recorded_at"] > rule["known_at"]:
        return False
    payload = entry["payload"]
    if any(payload.get(k) != v for k, v in rule.get("payload", {}).items()):
        return False
    subjects = rule.get("subjects")
    return subjects is None or entry["subject"] in subjects


def recount(entries_path: Path, rules: list[dict[str, Any]],
            proven: dict[int, str] | None = None) -> list[int]:
    """Each rule's count over the entries of an ``entries.jsonl``; with ``proven``, each
    proven entry found on the way must carry the proof's hash (one pass, one parse)."""
    counts = [0] * len(rules)
    by_type: dict[str, list[int]] = {}
    for i, rule in enumerate(rules):
        for kind in rule["types"]:
            by_type.setdefault(kind, []).append(i)
    with entries_path.open("rb") as f:
        for line in f:
            entry = json.loads(line[65:])
            if proven and entry["seq"] in proven and \
                    proven[entry["seq"]] != line[:64].decode("ascii"):
                raise VerificationError("proofs.jsonl: the entry differs from the bundle's",
                                        seq=entry["seq"])
            for i in by_type.get(entry["type"], ()):
                if matches(entry, rules[i]):
                    counts[i] += 1
    return counts


def check_inquiry(folder: Path, pubkey: str | None = None,
                  quorum: Quorum | None = None) -> InquiryReport:
    """The checks (1)-(5) of the module's text; with ``quorum`` (``--witness KEY…
    --quorum K``, issue 16), also K valid cosignatures on ``checkpoint.txt``."""
    report = InquiryReport()
    try:
        _check(folder, pubkey, report)
        if quorum is not None:
            report.witnessed = quorum.check(parse_checkpoint(
                (folder / "evidence" / "checkpoint.txt").read_text(encoding="utf-8")))
    except VerificationError as exc:
        report.first_bad_seq, report.reason = exc.seq, exc.reason
        return report
    report.ok = True
    return report


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VerificationError(f"inquiry: {path.name} is missing") from None
    except (OSError, ValueError) as exc:
        raise VerificationError(f"inquiry: {path.name} cannot be read ({exc})") from None


def _check(folder: Path, pubkey: str | None, report: InquiryReport) -> None:
    evidence = folder / "evidence"
    bundle = verify_bundle(evidence, pubkey)                                     # (1)
    report.key_from = bundle.key_from
    if not bundle.ok:
        raise VerificationError(f"evidence bundle: {bundle.reason}", seq=bundle.first_bad_seq)
    report.first_seq, report.last_seq, report.entries = (bundle.first_seq, bundle.last_seq,
                                                         bundle.entries)
    key = parse_verifier_key(pubkey or (evidence / "pubkey").read_text(encoding="utf-8"))
    try:                                                                         # (2)
        anchor = parse_checkpoint((evidence / "checkpoint.txt").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise VerificationError(f"inquiry: checkpoint.txt cannot be read ({exc})") from None
    verify_checkpoint_signature(anchor, key)
    if anchor.size != bundle.last_seq or anchor.size not in bundle.checkpoints:
        raise VerificationError("inquiry: checkpoint.txt is not the bundle's checkpoint "
                                f"at its last entry ({bundle.last_seq})")
    proven = _check_proofs(evidence / "proofs.jsonl", anchor.root, anchor.size)
    report.proofs = len(proven)                                                  # (3)
    figures = _load(folder / "figures.json")
    for cited in figures.get("cited", []):                                       # (4)
        if proven.get(cited["seq"]) != cited["hash"]:
            raise VerificationError("the report cites an entry with no valid proof in "
                                    "proofs.jsonl", seq=cited["seq"])
    rules = [f["count"] for f in figures["figures"]]                            # (5)
    counts = recount(evidence / "entries.jsonl", rules, proven)  # and (3): same hashes
    report.figures = len(rules)
    for fig, n in zip(figures["figures"], counts, strict=True):
        if fig["value"] != n:
            report.mismatches.append({"id": fig["id"], "reported": fig["value"], "counted": n})
    if report.mismatches:
        first = report.mismatches[0]
        raise VerificationError(f"figure {first['id']}: the report says {first['reported']}, "
                                f"the bundle's entries count {first['counted']}")


def _check_proofs(path: Path, root: bytes, size: int) -> dict[int, str]:
    proven: dict[int, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise VerificationError(f"inquiry: proofs.jsonl cannot be read ({exc})") from None
    for n, text in enumerate(lines, 1):
        try:
            p = json.loads(text)
            seq, digest, entry = int(p["seq"]), str(p["hash"]), str(p["entry"]).encode()
            nodes = [bytes.fromhex(h) for h in p["path"]]
        except (ValueError, KeyError, TypeError):
            raise VerificationError(f"inquiry: proofs.jsonl line {n} is malformed") from None
        if hashlib.sha256(entry).hexdigest() != digest or json.loads(entry)["seq"] != seq:
            raise VerificationError("proofs.jsonl: the entry's bytes do not hash to its "
                                    "hash", seq=seq)
        try:
            verify_inclusion(seq - 1, size, leaf_hash(bytes.fromhex(digest)), nodes, root)
        except VerificationError as exc:
            raise VerificationError(f"proofs.jsonl: {exc.reason}", seq=seq) from None
        proven[seq] = digest
    return proven
