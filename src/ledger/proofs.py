# ruff: noqa: PLC0415  (Ed25519 is imported when signing: `ledger prove` starts fast)
"""Proofs for auditors, application side: tree heads, inclusion and consistency proofs,
signed checkpoints.  Everything here reads the store without the master key; signing
a checkpoint needs the signing key (:mod:`ledger.signing_key`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .canonical import format_time
from .checking import guard
from .errors import ConfigError, InputError, LedgerError
from .merkle import EMPTY_ROOT, consistency_path, inclusion_path
from .notes import VerifierKey, checkpoint_body, format_note, valid_name
from .storage import AppendTx
from .tree_store import (
    TreeReader,
    catch_up,
    caught_up,
    insert_checkpoint,
    list_checkpoints,
    read_settings,
    write_settings,
)

__all__ = ["DEFAULT_ORIGIN_HOST", "Prover", "default_origin"]

DEFAULT_ORIGIN_HOST = "ledger.example"
_log = logging.getLogger("ledger.proofs")


def default_origin(name: str, env: Mapping[str, str]) -> str:
    """``$LEDGER_ORIGIN``, else ``ledger.example/<ledger name>``."""
    if env.get("LEDGER_ORIGIN"):
        origin = env["LEDGER_ORIGIN"]
        if not valid_name(origin):
            raise ConfigError("LEDGER_ORIGIN: the checkpoint origin must have no whitespace "
                              "or '+'")
        return origin
    return f"{DEFAULT_ORIGIN_HOST}/" + re.sub(r"[\s+]", "-", name)


def _every_setting(env: Mapping[str, str]) -> int | None:
    text = env.get("LEDGER_CHECKPOINT_EVERY")
    if not text:
        return None
    if not text.isdigit():
        raise ConfigError("LEDGER_CHECKPOINT_EVERY must be a whole number ≥ 0")
    return int(text)


def _head(tx: AppendTx) -> int:
    h = tx.head()
    return 0 if h is None else h.seq


@dataclass
class Prover:
    """Proofs over one ledger's store (``url``/``name`` locate its signing key)."""

    store: Any
    url: str
    name: str
    env: Mapping[str, str] | None = None

    @property
    def _env(self) -> Mapping[str, str]:
        return os.environ if self.env is None else self.env

    # -- set-up -------------------------------------------------------------------------
    def init(self) -> str:
        """Signing key and settings if absent (``ledger init``); what was done."""
        from .signing_key import create_signing_key

        path = create_signing_key(self.url, self.name, self._env)
        origin = default_origin(self.name, self._env)

        def settings(tx: AppendTx) -> str:
            s = read_settings(tx)
            if s is None:
                write_settings(tx, origin, _every_setting(self._env) or 0)
                return origin
            if self._env.get("LEDGER_ORIGIN") and s["origin"] != origin:
                raise ConfigError(f"LEDGER_ORIGIN: this ledger's checkpoints are already "
                                  f"signed for origin {s['origin']!r}; it cannot change")
            return str(s["origin"])

        origin = guard(lambda: self.store.append(settings))
        where = path if path is not None else "LEDGER_SIGNING_KEY"
        return f"signing key: {where}; checkpoint origin: {origin}"

    def settings(self) -> dict[str, Any]:
        s = guard(lambda: self.store.read(read_settings))
        if s is None:
            raise ConfigError("this ledger has no checkpoint settings yet: run `ledger init`")
        every = _every_setting(self._env)
        if every is not None:
            s["checkpoint_every"] = every
        return dict(s)

    def set_every(self, every: int) -> None:
        origin = self.settings()["origin"]
        guard(lambda: self.store.append(lambda tx: write_settings(tx, origin, every)))

    def verifier_key(self) -> VerifierKey:
        from .ed25519 import public_key_of
        from .signing_key import load_signing_key

        seed = load_signing_key(self.url, self.name, self._env)
        return VerifierKey.for_key(self.settings()["origin"], public_key_of(seed))

    # -- the tree -----------------------------------------------------------------------
    def catch_up(self) -> int:
        """Save the subtree hashes of the entries so far (own transaction); the head.

        A read transaction first: the write lock is taken only when there is work."""
        def check(tx: AppendTx) -> tuple[int, bool]:
            head = _head(tx)
            return head, caught_up(tx, head)

        def run(tx: AppendTx) -> int:
            head = _head(tx)
            catch_up(tx, head)
            return head
        head, done = guard(lambda: self.store.read(check))
        if not done:
            head = guard(lambda: self.store.append(run))
        return int(head)

    def _read(self, fn: Any) -> Any:
        return guard(lambda: self.store.read(lambda tx: fn(TreeReader(tx))))

    def root(self, size: int) -> bytes:
        """MTH of the first ``size`` entries (caught up to at least ``size``)."""
        if size == 0:
            return EMPTY_ROOT
        root: bytes = self._read(lambda r: r.subtree(0, size))
        return root

    def head(self) -> tuple[int, bytes]:
        size = self.catch_up()
        return size, self.root(size)

    def inclusion(self, seq: int, size: int | None = None) -> dict[str, Any]:
        head = self.catch_up()
        if size is None:
            if not 1 <= seq <= head:
                raise InputError("SEQ", f"must be between 1 and the ledger's size ({head})")
            size = head
        if not 1 <= size <= head:
            raise InputError("--size", f"must be between 1 and the ledger's size ({head})")
        if not 1 <= seq <= size:
            raise InputError("SEQ", f"must be between 1 and the tree size ({size})")

        def prove(r: TreeReader) -> dict[str, Any]:
            path = inclusion_path(seq - 1, size, r.subtree)
            return {"seq": seq, "leaf_index": seq - 1, "tree_size": size,
                    "leaf_hash": r.leaf(seq - 1).hex(), "root": r.subtree(0, size).hex(),
                    "path": [p.hex() for p in path]}
        out: dict[str, Any] = self._read(prove)
        return out

    def consistency(self, old: int, new: int | None = None) -> dict[str, Any]:
        head = self.catch_up()
        if new is None:
            new = head
        if not 1 <= new <= head:
            raise InputError("NEW", f"must be between 1 and the ledger's size ({head})")
        if not 1 <= old <= new:
            raise InputError("OLD", f"must be between 1 and NEW ({new})")

        def prove(r: TreeReader) -> dict[str, Any]:
            path = consistency_path(old, new, r.subtree)
            return {"old_size": old, "new_size": new, "old_root": r.subtree(0, old).hex(),
                    "new_root": r.subtree(0, new).hex(), "path": [p.hex() for p in path]}
        out: dict[str, Any] = self._read(prove)
        return out

    # -- checkpoints ----------------------------------------------------------------------
    def checkpoint(self) -> dict[str, Any]:
        """Sign the current tree head and record it (one checkpoint per size)."""
        from .ed25519 import sign
        from .signing_key import load_signing_key

        seed = load_signing_key(self.url, self.name, self._env)
        key = self.verifier_key()
        size, root = self.head()
        body = checkpoint_body(key.name, size, root)
        note = format_note(body, key.name, key.key_id, sign(seed, body.encode()))
        created = format_time(datetime.now(UTC))
        guard(lambda: self.store.append(
            lambda tx: insert_checkpoint(tx, size, root.hex(), note, created)))
        return self.checkpoints(min_size=size, max_size=size)[0]

    def checkpoints(self, *, min_size: int = 0, max_size: int | None = None) \
            -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = guard(lambda: self.store.read(
            lambda tx: list_checkpoints(tx, min_size=min_size, max_size=max_size)))
        return out


# -- hooks used by ledger.application (kept here so that the write path stays small) -----
def prover_of(ledger: Any) -> Prover:
    return Prover(ledger.store, ledger.url or "", ledger.name, ledger.env)


def checkpoint_interval(ledger: Any) -> int:
    """The auto-checkpoint interval of an opened ledger (0: none, or no proof tables yet)."""
    try:
        return int(prover_of(ledger).settings()["checkpoint_every"])
    except ConfigError:
        if (ledger.env or {}).get("LEDGER_CHECKPOINT_EVERY"):
            raise
        return 0


def after_append(ledger: Any, seqs: list[int]) -> None:
    """After a committed batch: checkpoint if it crossed a multiple of the interval.

    The batch is stored whatever happens here: a failure is logged, not raised
    (the next crossing, or ``ledger checkpoint``, signs the head)."""
    every = ledger.checkpoint_every
    if seqs and every > 0 and max(seqs) // every != (min(seqs) - 1) // every:
        try:
            prover_of(ledger).checkpoint()
        except LedgerError as exc:
            _log.warning("automatic checkpoint failed (the events are stored): %s", exc)
