"""Offline verification of an audit bundle: no database, no master key.

A bundle is a folder (docs/FORMAT.md §12)::

    entries.jsonl     one line per entry, seq order: <hash, 64 hex> SP <canonical entry bytes> LF
    checkpoints.txt   signed checkpoints (C2SP signed notes), each followed by one empty line
    pubkey            the ledger's verifier key <name>+<key id>+<base64 key>
    prefix.json       only when the bundle starts at seq > 1 (``--from-seq``): the tree before it
    README            what it is and how to check it

:func:`verify_bundle` checks, stopping at the first failure:

    (1) every entry with the chain verifier of :mod:`ledger.trust.verify` (seq, canonical
        bytes, link, hash, time order), starting from genesis or from the prefix;
    (2) every checkpoint is well formed, names the key's origin and carries a valid
        Ed25519 signature by the key;
    (3) the Merkle root (RFC 9162) of the first ``size`` entries equals the root of
        every checkpoint — the root is recomputed here from the entries' hashes;
    (4) with a prefix: the frontier of the tree before the first entry is
        well formed and the first entry's ``prev_hash`` is its last leaf (an
        inclusion proof against the frontier's root).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ledger.errors import InputError, VerificationError
from ledger.trust.chain import GENESIS_HASH
from ledger.trust.cosignature import Quorum
from ledger.trust.ed25519 import verify_checkpoint_signature
from ledger.trust.merkle import Accumulator, leaf_hash, verify_inclusion
from ledger.trust.notes import Checkpoint, VerifierKey, parse_checkpoints, parse_verifier_key
from ledger.trust.text import plural
from ledger.trust.verify import ChainVerifier

__all__ = ["BundleReport", "EntriesChecker", "frontier_root", "seq_of", "verify_bundle"]


class EntriesChecker(Protocol):
    """Steps (1) and (3) done elsewhere (in several processes: :mod:`ledger.app.bundle_verify`).

    Checks every line of ``path`` from entry ``first`` (linked to ``prev_hash``), pushes
    the leaves into ``acc``, calls ``at_size`` whenever the tree reaches one of ``sizes``,
    and returns the number of entries; or returns None to leave them to the single pass
    here.  Its verdict must be the single pass's (same first bad ``seq``, same reason)."""

    def __call__(self, path: Path, *, first: int, prev_hash: str, acc: Accumulator,
                 sizes: Collection[int], at_size: Callable[[], None]) -> int | None: ...


def seq_of(line: bytes, default: int) -> int:
    """The entry's top-level ``seq`` member, read without parsing the JSON (members are
    sorted and strings escape quotes, so the last ``"seq":`` is the top-level one;
    the verifier checks it anyway)."""
    i = line.rfind(b'"seq":')
    if i < 0:
        return default
    j = k = i + 6
    while k < len(line) and 48 <= line[k] <= 57:
        k += 1
    return int(line[j:k]) if k > j else default


@dataclass
class BundleReport:
    ok: bool = False
    first_seq: int = 1
    last_seq: int = 0
    entries: int = 0
    checkpoints: list[int] = field(default_factory=list)    # sizes verified
    key: str = ""
    key_from: str = ""
    first_bad_seq: int | None = None
    reason: str | None = None
    proves: list[str] = field(default_factory=list)
    does_not_prove: list[str] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)       # sizes of the auditor's checkpoints
    kept_notes: set[Checkpoint] = field(default_factory=set, repr=False)
    witnessed: list[dict[str, Any]] = field(default_factory=list)  # issue 16: cosignatures
    timestamped: list[dict[str, Any]] = field(default_factory=list)  # RFC 3161 (app checks)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "first_seq": self.first_seq, "last_seq": self.last_seq,
                "entries": self.entries, "checkpoints_verified": self.checkpoints,
                "key": self.key, "key_from": self.key_from,
                "first_bad_seq": self.first_bad_seq, "reason": self.reason,
                "proves": self.proves, "does_not_prove": self.does_not_prove,
                "kept_checkpoints_verified": self.kept, "witnessed": self.witnessed,
                "timestamped": self.timestamped}


def frontier_root(frontier: list[bytes]) -> bytes:
    acc = Accumulator.from_frontier((1 << len(frontier)) - 1, frontier) if frontier else None
    return acc.root() if acc is not None else b""


def _read(folder: Path, name: str) -> str:
    try:
        return (folder / name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VerificationError(f"bundle: {name} is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VerificationError(f"bundle: {name} cannot be read ({exc})") from None


def _key(folder: Path, pubkey: str | None, report: BundleReport) -> VerifierKey:
    if pubkey is not None:
        report.key_from = "given by the auditor (--pubkey)"
        return parse_verifier_key(pubkey)
    report.key_from = "read from the bundle's pubkey file (trust it only if it matches a key " \
                      "obtained elsewhere)"
    return parse_verifier_key(_read(folder, "pubkey"))


def _prefix(folder: Path, first_seq: int) -> tuple[Accumulator, str]:
    """The tree of the entries before ``first_seq`` and the last one's chain hash."""
    try:
        prefix = json.loads(_read(folder, "prefix.json"))
        size = prefix["size"]
        frontier = [bytes.fromhex(h) for h in prefix["frontier"]]
        last_hash = prefix["last_hash"]
        path = [bytes.fromhex(h) for h in prefix["last_leaf_path"]]
        last = bytes.fromhex(last_hash)
    except (ValueError, KeyError, TypeError):
        raise VerificationError("bundle: prefix.json is malformed") from None
    if size != first_seq - 1 or len(last) != 32:
        raise VerificationError("bundle: prefix.json does not describe the tree before the "
                                "first entry")
    acc = Accumulator.from_frontier(size, frontier)
    try:
        verify_inclusion(size - 1, size, leaf_hash(last), path, acc.root())
    except VerificationError as exc:
        raise VerificationError(f"bundle: prefix.json: the last hash before the first entry "
                                f"is not the last leaf of the prefix tree ({exc.reason})") \
            from None
    return acc, last_hash


def verify_bundle(folder: Path, pubkey: str | None = None, *, kept: Sequence[Checkpoint] = (),
                  check_entries: EntriesChecker | None = None,
                  quorum: Quorum | None = None) -> BundleReport:
    """Check a bundle; the report says what passed, what failed and what is not proven.

    ``kept``: checkpoints the auditor kept from an earlier visit; each must carry the
    key's signature and its root must be the root of the bundle's first ``size``
    entries — the bundle then extends what the auditor was shown (offline).

    ``check_entries``: checks the entries another way (in several processes, see
    :mod:`ledger.app.bundle_verify`) or returns None for the single pass here; either
    way the verdict is the single pass's.  This module reads the bundle's files and
    nothing else: no database, no process, no clock.

    ``quorum`` (issue 16): the bundle's newest checkpoint must carry that many valid
    witness cosignatures (``--witness KEY… --quorum K``).
    """
    report = BundleReport()
    try:
        _verify(folder, pubkey, report, check_entries, kept=list(kept))
        if quorum is not None:
            _witnessed(folder, quorum, report)
    except VerificationError as exc:
        report.ok, report.first_bad_seq, report.reason = False, exc.seq, exc.reason
        return report
    report.ok = True
    return report


def _first_seq(folder: Path) -> int:
    with (folder / "entries.jsonl").open("rb") as f:
        line = f.readline()
    try:
        return int(json.loads(line[65:])["seq"]) if line else 1
    except (ValueError, KeyError, TypeError):
        raise VerificationError("bundle: the first line of entries.jsonl is malformed",
                                seq=None) from None


def _verify(folder: Path, pubkey: str | None, report: BundleReport,
            check_entries: EntriesChecker | None, *, kept: list[Checkpoint]) -> None:
    if not folder.is_dir():
        raise InputError("--bundle", "must be a folder written by `ledger audit-bundle`")
    key = _key(folder, pubkey, report)
    report.key = str(key)
    checkpoints: list[Checkpoint] = parse_checkpoints(_read(folder, "checkpoints.txt"))
    checkpoints += kept  # checked like the bundle's own, none dropped (two may share a size)
    report.kept, report.kept_notes = sorted(cp.size for cp in kept), set(kept)
    for cp in checkpoints:                                                    # (2)
        if cp.origin != key.name:
            raise VerificationError(f"checkpoint of size {cp.size} is for origin "
                                    f"{cp.origin!r}, not the key's {key.name!r}")
        verify_checkpoint_signature(cp, key)
    if not (folder / "entries.jsonl").exists():
        raise VerificationError("bundle: entries.jsonl is missing")
    first = _first_seq(folder)
    report.first_seq = first
    if first > 1:                                                              # (4)
        acc, prev_hash = _prefix(folder, first)
    else:
        acc, prev_hash = Accumulator(), GENESIS_HASH
    roots: dict[int, list[Checkpoint]] = {}
    for cp in checkpoints:
        if cp.size < first - 1:
            raise VerificationError(f"checkpoint of size {cp.size} ends before the bundle's "
                                    f"first entry {first}: it cannot be checked here")
        roots.setdefault(cp.size, []).append(cp)
    if first - 1 in roots:
        _check_roots(roots.pop(first - 1), acc, report)
    path = folder / "entries.jsonl"
    count = _check_entries(path, first=first, prev_hash=prev_hash, acc=acc, roots=roots,
                           report=report, check_entries=check_entries)
    report.entries = count
    report.last_seq = first + count - 1
    if roots:
        size = min(roots)
        raise VerificationError(f"checkpoint of size {size} lies beyond the bundle's last "
                                f"entry {report.last_seq}: entries are missing")
    _explain(report, first)


def _witnessed(folder: Path, quorum: Quorum, report: BundleReport) -> None:
    own = parse_checkpoints(_read(folder, "checkpoints.txt"))
    if not own:
        raise VerificationError("the bundle has no checkpoint for the witnesses to vouch for")
    newest = max(own, key=lambda cp: cp.size)
    report.witnessed = quorum.check(newest)
    names = ", ".join(f"{w['witness']} (at {w['at']})" for w in report.witnessed)
    report.proves.append(f"witnesses {names} cosigned the tree head of size {newest.size}: "
                         "it existed by then, and they were shown no other history for "
                         "this origin")


def _check_entries(path: Path, *, first: int, prev_hash: str, acc: Accumulator,
                   roots: dict[int, list[Checkpoint]], report: BundleReport,
                   check_entries: EntriesChecker | None) -> int:
    """Steps (1) and (3): every entry, and the root at every checkpoint size."""
    if check_entries is not None:
        count = check_entries(path, first=first, prev_hash=prev_hash, acc=acc, sizes=roots,
                              at_size=lambda: _root_reached(acc, roots, report))
        if count is not None:
            return count
    verifier = ChainVerifier(start_seq=first, prev_hash=prev_hash)
    push, check = acc.push, verifier.check
    fromhex = bytes.fromhex
    with path.open("rb") as f:
        for line in f:
            if len(line) < 67 or line[64:65] != b" " or not line.endswith(b"\n"):
                raise VerificationError("entries.jsonl: a line is not '<hash> <entry>'",
                                        seq=verifier.expected_seq)
            stored, entry = line[:64].decode("ascii", "replace"), line[65:-1]
            try:  # the line's position is its seq; the verifier checks the entry's own
                check(verifier.expected_seq, stored, entry)
            except VerificationError:  # again with the line's seq, for the precise reason
                check(_seq_of(line, verifier), stored, entry)
                raise
            push(leaf_hash(fromhex(stored)))
            if acc.size in roots:
                _check_roots(roots.pop(acc.size), acc, report)
    return verifier.count


def _root_reached(acc: Accumulator, roots: dict[int, list[Checkpoint]],
                  report: BundleReport) -> None:
    if acc.size in roots:
        _check_roots(roots.pop(acc.size), acc, report)


def _seq_of(line: bytes, verifier: ChainVerifier) -> int:
    return seq_of(line, verifier.expected_seq)


def _check_roots(cps: list[Checkpoint], acc: Accumulator, report: BundleReport) -> None:
    root = acc.root()
    for cp in cps:
        if root != cp.root:
            whose = "the checkpoint you kept" if cp in report.kept_notes \
                else "the signed checkpoint's"
            raise VerificationError(f"the Merkle root of the first "
                                    f"{plural(cp.size, 'entry', 'entries')} differs from "
                                    f"{whose}", seq=cp.size)
    if acc.size not in report.checkpoints:
        report.checkpoints.append(acc.size)


def _explain(report: BundleReport, first: int) -> None:
    last = report.last_seq
    report.proves.append(f"entries {first}..{last} are well formed, canonical and linked, "
                         "and each hash is SHA-256 of its entry")
    if report.kept:
        report.proves.append(
            f"the bundle extends the {'checkpoint' if len(report.kept) == 1 else 'checkpoints'}"
            f" you kept (size{'' if len(report.kept) == 1 else 's'} "
            f"{', '.join(map(str, report.kept))}): its entries up to them are the ones "
            "those checkpoints committed to, nothing cut, edited or reordered since")
    if report.checkpoints:
        top = max(report.checkpoints)
        report.proves.append(
            f"the key signed tree heads of sizes {', '.join(map(str, report.checkpoints))}; "
            f"the entries up to {top} are exactly the ones those checkpoints commit to")
        if top < last:
            report.does_not_prove.append(f"entries {top + 1}..{last} are after the last "
                                         "checkpoint: no signature covers them yet")
    else:
        report.does_not_prove.append("no checkpoint: nothing ties these entries to the key "
                                     "(a chain proves internal consistency only)")
    if first > 1:
        earlier = plural(first - 1, "earlier entry", "earlier entries")
        report.proves.append(f"entry {first} follows the entry whose hash is the last leaf "
                             f"of the tree of the {earlier} (prefix.json)")
        report.does_not_prove.append(f"the content of entries 1..{first - 1}: only their "
                                     "tree (frontier hashes) is in the bundle; recorded_at of "
                                     f"entry {first} is not compared with entry {first - 1}'s")
    report.does_not_prove.append("that the ledger did not change after the last checkpoint "
                                 "(keep it, and use `ledger verify --checkpoint` later)")
