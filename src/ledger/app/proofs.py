# ruff: noqa: PLC0415  (Ed25519 is imported when signing: `ledger prove` starts fast)
"""Proofs for auditors, application side: tree heads, inclusion and consistency proofs,
signed checkpoints.  Everything here reads the store without the master key; signing
a checkpoint needs the signing key (:mod:`ledger.keys.signing_key`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.errors import ConfigError, InputError
from ledger.storage import AppendTx
from ledger.storage.tree_store import (
    TreeReader,
    catch_up,
    caught_up,
    insert_checkpoint,
    latest_checkpoint,
    list_checkpoints,
    pin_key,
    read_pinned_key,
    read_settings,
    write_settings,
)
from ledger.trust.canonical import format_time
from ledger.trust.merkle import EMPTY_ROOT, consistency_path, inclusion_path
from ledger.trust.notes import (
    VerifierKey,
    checkpoint_body,
    format_note,
    parse_verifier_key,
    valid_name,
)

__all__ = ["DEFAULT_ORIGIN_HOST", "Prover", "default_origin"]

DEFAULT_ORIGIN_HOST = "ledger.example"
# issue 16: a NEW ledger checkpoints after every 1,000 entries or 60 seconds, whichever
# first (docs/PROOFS.md "Automatic checkpoints"); an existing ledger keeps its setting.
DEFAULT_CHECKPOINT_EVERY = 1000
DEFAULT_CHECKPOINT_SECONDS = 60
_log = logging.getLogger("ledger.app.proofs")


def default_origin(name: str, env: Mapping[str, str]) -> str:
    """``$LEDGER_ORIGIN``, else ``ledger.example/<ledger name>``."""
    if env.get("LEDGER_ORIGIN"):
        origin = env["LEDGER_ORIGIN"]
        if not valid_name(origin):
            raise ConfigError("LEDGER_ORIGIN: the checkpoint origin must have no whitespace "
                              "or '+'")
        return origin
    return f"{DEFAULT_ORIGIN_HOST}/" + re.sub(r"[\s+]", "-", name)


def seconds_setting(env: Mapping[str, str]) -> int:
    """``LEDGER_CHECKPOINT_SECONDS`` (default 60; 0: no time criterion)."""
    text = env.get("LEDGER_CHECKPOINT_SECONDS")
    if not text:
        return DEFAULT_CHECKPOINT_SECONDS
    if not text.isdigit():
        raise ConfigError("LEDGER_CHECKPOINT_SECONDS must be a whole number ≥ 0")
    return int(text)


def _every_setting(env: Mapping[str, str]) -> int | None:
    text = env.get("LEDGER_CHECKPOINT_EVERY")
    if not text:
        return None
    if not text.isdigit():
        raise ConfigError("LEDGER_CHECKPOINT_EVERY must be a whole number ≥ 0")
    return int(text)


def _foreign(pinned: str, path: Any) -> str:
    where = path if path is not None else "LEDGER_SIGNING_KEY"
    return (f"the signing key ({where}) is not this ledger's: checkpoints are signed only "
            f"with the key pinned at `ledger init`, whose verifier key is {pinned} "
            "(docs/PROOFS.md, signing key)")


@dataclass(frozen=True, slots=True)
class InitPlan:
    """What ``ledger init`` writes for the proofs, decided before anything is written."""

    seed: bytes
    key_path: Any          # Path of the key file, None: LEDGER_SIGNING_KEY
    fresh_key: bool        # the file is still to be written
    origin: str
    every: int
    new_settings: bool
    verifier_key: str
    pin: bool              # the key is still to be pinned


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
    pinned_now: str | None = None  # the verifier key this object pinned (first checkpoint)

    @property
    def _env(self) -> Mapping[str, str]:
        return os.environ if self.env is None else self.env

    # -- set-up -------------------------------------------------------------------------
    def plan_init(self) -> InitPlan:
        """What ``ledger init`` will do, checked without writing anything: the signing key
        (drawn in memory when new), the origin, and that neither conflicts with what the
        ledger already holds (its origin, its pinned verifier key)."""
        from ledger.keys.signing_key import plan_signing_key
        from ledger.trust.ed25519 import public_key_of

        seed, path, fresh = plan_signing_key(self.url, self.name, self._env)
        origin = default_origin(self.name, self._env)
        every = _every_setting(self._env)
        every = DEFAULT_CHECKPOINT_EVERY if every is None else every
        stored = self._stored_settings()
        if stored is not None:
            if self._env.get("LEDGER_ORIGIN") and stored["origin"] != origin:
                raise ConfigError(f"LEDGER_ORIGIN: this ledger's checkpoints are already "
                                  f"signed for origin {stored['origin']!r}; it cannot change")
            origin = str(stored["origin"])
        key = VerifierKey.for_key(origin, public_key_of(seed))
        pinned = self._pinned()
        if pinned is not None and pinned != str(key):
            raise ConfigError(_foreign(pinned, path))
        if pinned is None and stored is not None:
            self._check_stored_checkpoints(key, path)
        return InitPlan(seed, path, fresh, origin, every, stored is None, str(key),
                        pinned is None)

    def init(self, plan: InitPlan | None = None) -> str:
        """Signing key, settings and pinned verifier key if absent (``ledger init``; the
        plan from :meth:`plan_init`, made before anything was written); what was done."""
        from ledger.keys.keystore import write_secret

        plan = plan or self.plan_init()
        if plan.fresh_key and plan.key_path is not None:
            write_secret(plan.key_path, plan.seed)
        if plan.new_settings:
            self.store.append(lambda tx: write_settings(tx, plan.origin, plan.every))
        if plan.pin:
            self._pin(plan.verifier_key)
        where = plan.key_path if plan.key_path is not None else "LEDGER_SIGNING_KEY"
        pinned = f"; verifier key pinned: {plan.verifier_key}" if plan.pin else ""
        return f"signing key: {where}; checkpoint origin: {plan.origin}{pinned}"

    def _stored_settings(self) -> dict[str, Any] | None:
        try:
            s: dict[str, Any] | None = self.store.read(read_settings)
        except ConfigError:  # no proof tables yet: `ledger init` creates them
            return None
        return s

    def _pinned(self) -> str | None:
        """The pinned verifier key; None when none is pinned (or its table is not there
        yet: a ledger initialised before pinning, issue 13)."""
        try:
            pinned: str | None = self.store.read(read_pinned_key)
        except ConfigError:
            return None
        return pinned

    def _pin(self, verifier_key: str) -> None:
        try:
            self.store.read(read_pinned_key)
        except ConfigError:
            self.store.create_table()  # the tables of `ledger init`, idempotent
        created = format_time(datetime.now(UTC))
        self.store.append(lambda tx: pin_key(tx, verifier_key, created))

    def _check_stored_checkpoints(self, key: VerifierKey, path: Any) -> None:
        """Before pinning a key on a ledger that has checkpoints but no pin: they must
        verify with it (else it is not this ledger's key)."""
        from ledger.errors import VerificationError
        from ledger.trust.ed25519 import verify_checkpoint_signature
        from ledger.trust.notes import parse_checkpoint

        try:
            latest = self.store.read(latest_checkpoint)
        except ConfigError:
            return
        if latest is None:
            return
        try:
            verify_checkpoint_signature(parse_checkpoint(latest["note"]), key)
        except VerificationError:
            where = path if path is not None else "LEDGER_SIGNING_KEY"
            raise ConfigError(f"the signing key ({where}) is not this ledger's: its stored "
                              f"checkpoints were signed with another key; use that one "
                              "(docs/PROOFS.md, signing key)") from None

    def settings(self) -> dict[str, Any]:
        s = self.store.read(read_settings)
        if s is None:
            raise ConfigError("this ledger has no checkpoint settings yet: run `ledger init`")
        every = _every_setting(self._env)
        if every is not None:
            s["checkpoint_every"] = every
        return dict(s)

    def set_every(self, every: int) -> None:
        origin = self.settings()["origin"]
        self.store.append(lambda tx: write_settings(tx, origin, every))

    def verifier_key(self) -> VerifierKey:
        """The ledger's pinned verifier key (no signing key needed); before one is pinned,
        the one of the signing key at hand."""
        pinned = self._pinned()
        if pinned is not None:
            return parse_verifier_key(pinned)
        return self._signing_key()[1]

    def _signing_key(self) -> tuple[bytes, VerifierKey]:
        from ledger.keys.signing_key import load_signing_key
        from ledger.trust.ed25519 import public_key_of

        seed = load_signing_key(self.url, self.name, self._env)
        return seed, VerifierKey.for_key(self.settings()["origin"], public_key_of(seed))

    def signing_key(self) -> tuple[bytes, VerifierKey]:
        """The signing seed and its verifier key, refused unless it is the pinned one.

        A ledger initialised before pinning gets its key pinned here, on its first
        checkpoint (``pinned_now`` then says so), after checking it against the
        checkpoints already stored."""
        from ledger.keys.signing_key import signing_key_path

        seed, key = self._signing_key()
        path = None if self._env.get("LEDGER_SIGNING_KEY") else \
            signing_key_path(self.url, self.name, self._env)
        pinned = self._pinned()
        if pinned is None:
            self._check_stored_checkpoints(key, path)
            self._pin(str(key))
            pinned = self._pinned()  # another process may have pinned first
            self.pinned_now = str(key) if pinned == str(key) else None
        if pinned != str(key):
            raise ConfigError(_foreign(str(pinned), path))
        return seed, key

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
        head, done = self.store.read(check)
        if not done:
            head = self.store.append(run)
        return int(head)

    def _read(self, fn: Any) -> Any:
        return self.store.read(lambda tx: fn(TreeReader(tx)))

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
        from ledger.trust.ed25519 import sign

        seed, key = self.signing_key()
        size, root = self.head()
        body = checkpoint_body(key.name, size, root)
        note = format_note(body, key.name, key.key_id, sign(seed, body.encode()))
        created = format_time(datetime.now(UTC))
        self.store.append(lambda tx: insert_checkpoint(tx, size, root.hex(), note, created))
        cp = self.checkpoints(min_size=size, max_size=size)[0]
        from ledger.app.timestamps import timestamp_after_checkpoint  # issue 16: a TSA
        from ledger.app.witnessing import push_after_checkpoint  # issue 16: the witnesses

        return {**cp, "witnesses": push_after_checkpoint(self, cp),
                "timestamps": timestamp_after_checkpoint(self, cp, body)}

    def checkpoints(self, *, min_size: int = 0, max_size: int | None = None) \
            -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = (self.store.read(
            lambda tx: list_checkpoints(tx, min_size=min_size, max_size=max_size)))
        return out


# -- hooks used by ledger.app.application (kept here so that the write path stays small) -----
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
    """After a committed batch: checkpoint if it is due (:mod:`ledger.app.auto_checkpoints`)."""
    from ledger.app.auto_checkpoints import signed_after

    signed_after(ledger, seqs)
