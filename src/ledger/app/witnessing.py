"""The ledger's side of witnessing (issue 16): the witnesses configured for a ledger, the
push of each new checkpoint with its consistency proof (c2sp.org/tlog-witness
add-checkpoint), the cosignatures returned (checked, then stored), and cosigned
checkpoints for the faces.

A push never fails a checkpoint: a witness that is down or refuses is reported (and
logged); ``ledger witness push`` tries again.  A witness's answer 409 carries the size
it holds: the push is retried once from that size, which is how a witness that lost
track, or a ledger whose cosignature table was emptied, comes back in step; a history
that does not extend what the witness holds gets 422 and no cosignature.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPException
from typing import Any

from ledger.app.policies import load_policies
from ledger.app.proofs import Prover, prover_of
from ledger.domain.periods import time_zone
from ledger.errors import (
    ConfigError,
    InputError,
    LedgerError,
    VerificationError,
    WitnessRefusal,
)
from ledger.storage.witness_store import (
    add_witness,
    insert_cosignature,
    list_cosignatures,
    list_witnesses,
    remove_witness,
)
from ledger.trust.cosignature import (
    add_cosignatures,
    cosignature_by,
    format_add_checkpoint,
    parse_cosignature_lines,
    parse_witness_key,
    utc_text,
)
from ledger.trust.notes import parse_checkpoint

__all__ = ["PushResult", "Witnessing", "latest_cosigned_of", "local_times", "push_after_checkpoint",
           "with_cosignatures"]

_log = logging.getLogger("ledger.app.witnessing")
TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class PushResult:
    witness: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"witness": self.witness, "ok": self.ok, "detail": self.detail}


def _post(url: str, body: bytes) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 - http(s) only
                                 headers={"Content-Type": "text/plain; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 - http(s) only
            return int(resp.status), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode("utf-8", "replace")


class Witnessing:
    """Witnesses and cosignatures of the ledger that ``prover`` proves."""

    def __init__(self, prover: Prover) -> None:
        self.prover = prover
        self.store = prover.store

    def _read(self, fn: Any) -> Any:
        try:
            return self.store.read(fn)
        except ConfigError:  # an older ledger: no witness tables yet
            self.store.create_table()
            return self.store.read(fn)

    # -- configuration ----------------------------------------------------------------
    def witnesses(self) -> list[dict[str, str]]:
        out: list[dict[str, str]] = self._read(list_witnesses)
        return out

    def attach(self, key_text: str, url: str) -> dict[str, str]:
        try:
            key = parse_witness_key(key_text)
        except VerificationError as exc:
            raise InputError("KEY", exc.reason) from None
        if not url.startswith(("http://", "https://")):
            raise InputError("URL", "must start with http:// or https://")
        url = url.rstrip("/")
        if not url.endswith("/add-checkpoint"):
            url += "/add-checkpoint"
        self.witnesses()  # creates the tables of an older ledger
        self.store.append(lambda tx: add_witness(tx, key.name, str(key), url))
        return {"name": key.name, "key": str(key), "url": url}

    def detach(self, name: str) -> bool:
        self.witnesses()
        return bool(self.store.append(lambda tx: remove_witness(tx, name)))

    # -- cosignatures -----------------------------------------------------------------
    def cosignatures(self, *, min_size: int = 0,
                     max_size: int | None = None) -> list[dict[str, Any]]:
        """The stored cosignatures (none on an older ledger without the tables)."""
        try:
            out: list[dict[str, Any]] = self.store.read(
                lambda tx: list_cosignatures(tx, min_size=min_size, max_size=max_size))
        except ConfigError:
            return []
        return out

    def cosigned_note(self, size: int, note: str) -> str:
        """The checkpoint note of ``size`` with every stored cosignature appended."""
        lines = [c["line"] for c in self.cosignatures(min_size=size, max_size=size)]
        return add_cosignatures(note, lines)

    def latest_cosigned(self) -> dict[str, Any] | None:
        """The largest checkpoint that has at least one cosignature, note cosigned."""
        sizes = [c["tree_size"] for c in self.cosignatures()]
        if not sizes:
            return None
        top = max(sizes)
        cp = self.prover.checkpoints(min_size=top, max_size=top)[0]
        return {**cp, "note": self.cosigned_note(top, cp["note"]),
                "cosignatures": sum(1 for s in sizes if s == top)}

    # -- the push ----------------------------------------------------------------------
    def push(self, size: int, note: str) -> list[PushResult]:
        """Send the checkpoint of ``size`` to every configured witness; what each did."""
        results = []
        for w in self.witnesses():
            try:
                results.append(self._push_one(w, size, note))
            except (LedgerError, OSError, HTTPException) as exc:  # reported, never raised
                detail = getattr(exc, "reason", None) or str(exc)
                results.append(PushResult(w["name"], False, detail))
        for r in results:
            if not r.ok:
                _log.warning("witness %s did not cosign the checkpoint of size %d: %s",
                             r.witness, size, r.detail)
        return results

    def _last_size(self, witness_key: str, size: int) -> int:
        sizes = [c["tree_size"] for c in self.cosignatures(max_size=size)
                 if c["witness"] == witness_key]
        return max(sizes, default=0)

    def _request(self, old: int, size: int, note: str) -> bytes:
        proof: list[bytes] = []
        if 0 < old < size:
            proof = [bytes.fromhex(h) for h in self.prover.consistency(old, size)["path"]]
        return format_add_checkpoint(old, proof, note)

    def _push_one(self, w: dict[str, str], size: int, note: str) -> PushResult:
        key = parse_witness_key(w["key"])
        old = self._last_size(w["key"], size)
        status, text = _post(w["url"], self._request(old, size, note))
        if status == 409 and text.strip().isdigit():
            held = int(text.strip())
            if held > size:
                raise WitnessRefusal(409, f"the witness holds a larger tree ({held})",
                                     size=held)
            status, text = _post(w["url"], self._request(held, size, note))
        if status != 200:
            raise WitnessRefusal(status, text.strip()[:200] or "no reason given")
        lines = parse_cosignature_lines(text)
        cosig = cosignature_by(parse_checkpoint(add_cosignatures(note, lines)), key)
        if cosig is None:
            raise VerificationError("the witness answered no cosignature by its key")
        self.store.append(lambda tx: insert_cosignature(tx, size, w["key"], cosig.line(),
                                                        cosig.timestamp))
        return PushResult(w["name"], True, f"cosigned at {utc_text(cosig.timestamp)}")

    def push_latest(self) -> tuple[int, list[PushResult]]:
        """Push the latest checkpoint again (``ledger witness push``)."""
        cps = self.prover.checkpoints()
        if not cps:
            raise ConfigError("this ledger has no checkpoint yet: run `ledger checkpoint`")
        cp = cps[-1]
        return int(cp["tree_size"]), self.push(int(cp["tree_size"]), cp["note"])


def push_after_checkpoint(prover: Prover, cp: dict[str, Any]) -> list[dict[str, Any]]:
    """Hook of :meth:`Prover.checkpoint`: push to the witnesses, never raise."""
    try:
        w = Witnessing(prover)
        return [r.as_dict() for r in w.push(int(cp["tree_size"]), cp["note"])]
    except (LedgerError, OSError) as exc:
        _log.warning("witnesses not reached for checkpoint %s: %s", cp["tree_size"], exc)
        return []


def with_cosignatures(prover: Prover, cps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The checkpoints (in size order) with their stored cosignatures appended to their
    notes, and ``cosignatures``: how many (bundles and receipts carry them this way)."""
    if not cps:
        return cps
    lines: dict[int, list[str]] = {}
    for c in Witnessing(prover).cosignatures(min_size=int(cps[0]["tree_size"]),
                                             max_size=int(cps[-1]["tree_size"])):
        lines.setdefault(c["tree_size"], []).append(c["line"])
    return [{**cp, "note": add_cosignatures(cp["note"], lines.get(cp["tree_size"], [])),
             "cosignatures": len(lines.get(cp["tree_size"], []))} for cp in cps]


def latest_cosigned_of(ledger: Any) -> dict[str, Any] | None:
    """``GET /v1/checkpoints/cosigned``: the newest cosigned checkpoint of an open ledger."""
    return Witnessing(prover_of(ledger)).latest_cosigned()


def local_times(prover: Prover, witnessed: list[dict[str, Any]]) -> list[str]:
    """The cosignature times in the time zone of the ledger's policy in force now, for
    people (JSON keeps POSIX seconds and UTC)."""
    now = datetime.now(UTC)
    zone = time_zone(load_policies(prover.store).time_zone(now))
    return [datetime.fromtimestamp(int(w["time"]), UTC).astimezone(zone).isoformat()
            for w in witnessed]
