"""The application layer: what the CLI and the HTTP API call — :class:`Ledger`, the one
composition root (store, keys, clock, policy wired once).

The use cases live in modules named for what they are: :mod:`ledger.app.append` (the
write transaction, the only write path), :mod:`ledger.app.opening` (entries opened for
``show``/``log``), :mod:`ledger.app.stream_state` (the folded state of the streams
the rules read, and its rebuild and check), :mod:`ledger.app.erasure_preview`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from ledger.app import stream_state
from ledger.app.append import ACCESS, Receipt, append_tx
from ledger.app.checking import ledger_id_for, open_checked_store, verify_store
from ledger.app.erasing import erasure_event
from ledger.app.erasure_preview import ErasurePreview, read_erasure_preview
from ledger.app.opening import ERASED, readable, readable_pages
from ledger.app.policies import load_policies
from ledger.app.proofs import after_append, checkpoint_interval, prover_of
from ledger.domain.events import Draft, parse_unverified_event, utcnow
from ledger.domain.policy import Policy
from ledger.domain.rules import PolicyBook
from ledger.errors import InputError, KeyError_, LedgerError
from ledger.keys.keystore import load_master, plan_master, write_secret
from ledger.keys.sealing import KeyRing
from ledger.storage import open_store
from ledger.storage.meta import read_meta, write_meta
from ledger.trust.canonical import format_time
from ledger.trust.chain import GENESIS_HASH
from ledger.trust.verify import VerificationResult

__all__ = ["ERASED", "FORMAT_VERSION", "Ledger", "Receipt", "ledger_id_for"]

FORMAT_VERSION = 1


class Ledger:
    """One named ledger in one database."""

    def __init__(self, store: Any, ring: KeyRing, name: str,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.ring = ring
        self.name = name
        self.clock = clock
        self._book = PolicyBook()
        self._book_seq = -1
        self.url: str | None = None  # set by init/open; lets verify use worker processes
        self.env: Mapping[str, str] | None = None  # settings (signing key…); None: os.environ
        self.checkpoint_every = 0  # auto-checkpoint interval (ledger.app.proofs), set by init/open
        self.state_tables_ready = False  # stream-state tables known to exist (ledger.app.append)

    # -- opening ----------------------------------------------------------------
    @classmethod
    def init(cls, url: str, name: str = "main", env: Mapping[str, str] | None = None) \
            -> tuple[Ledger, str]:
        """Create the schema and keys if absent; return the ledger and what was done."""
        env = os.environ if env is None else env
        # every check first, writing nothing: a refused init changes nothing on disk
        master, key_path, fresh_master = plan_master(url, env)
        lid = ledger_id_for(name)
        store = open_store(url, lid)
        try:
            ring = KeyRing(master, str(lid))
            meta = store.read(lambda tx: read_meta(tx, str(lid))) \
                if store.schema_exists() else None
            if meta is not None:
                _check_fingerprint(meta, ring)
            ledger = cls(store, ring, name)
            ledger.url, ledger.env = url, env
            prover = prover_of(ledger)
            plan = prover.plan_init()
        except BaseException:
            store.close()
            raise
        # then the writes: schema, master key file, meta, signing key, settings, pin
        store.create_table()
        if fresh_master and key_path is not None:
            write_secret(key_path, master)
        if meta is None:
            store.append(lambda tx: write_meta(
                tx, str(lid), name=name, fingerprint=ring.fingerprint,
                format_version=FORMAT_VERSION, created_at=format_time(utcnow())))
        done = "created" if meta is None else "already initialised"
        where = f"master key: {key_path}" if key_path else "master key: LEDGER_MASTER_KEY"
        signing = prover.init(plan)
        ledger.checkpoint_every = checkpoint_interval(ledger)
        return ledger, f"ledger {name!r} {done}; {where}; {signing}"

    @classmethod
    def open(cls, url: str, name: str = "main", env: Mapping[str, str] | None = None) \
            -> Ledger:
        """Open an initialised ledger with its master key (verifying alone needs none:
        :func:`ledger.app.checking.open_checked_store` and
        :func:`~ledger.app.checking.verify_store`)."""
        env = os.environ if env is None else env
        store, meta = open_checked_store(url, name)
        try:
            ring = KeyRing(load_master(url, env), str(ledger_id_for(name)))
            _check_fingerprint(meta, ring)
        except LedgerError:
            store.close()
            raise
        ledger = cls(store, ring, name)
        ledger.url, ledger.env = url, env
        ledger.checkpoint_every = checkpoint_interval(ledger)
        return ledger

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- subjects -----------------------------------------------------------------
    def pseudonym(self, ref: str) -> str:
        """The stored pseudonym of a subject: ``pseudonym:<hex>`` passes through."""
        if ref.startswith("pseudonym:"):
            return ref[len("pseudonym:"):]
        return self.ring.pseudonym(ref)

    # -- writing ------------------------------------------------------------------
    def parse(self, raws: Sequence[object], *, default_actor: str | None = None) -> list[Draft]:
        now = self.clock()
        drafts = []
        for line, raw in enumerate(raws, start=1):
            try:
                drafts.append(parse_unverified_event(raw, now=now, default_actor=default_actor))
            except InputError as exc:
                raise exc.at_line(line) from None
        return drafts

    def append(self, raws: Sequence[object], *, default_actor: str | None = None) \
            -> list[Receipt]:
        """Append a batch, all or nothing; see the module docstring."""
        drafts = self.parse(raws, default_actor=default_actor)
        if not drafts:
            return []
        return self.append_drafts(drafts)

    def append_drafts(self, drafts: Sequence[Draft]) -> list[Receipt]:
        # A read is recorded by the pseudonym shown (ledger.app.accesses): the subject of a
        # PersonalDataAccessed may be given as pseudonym:<hex>, like every read's.
        pseudonyms = {d.subject: self.pseudonym(d.subject) if d.type == ACCESS
                      else self.ring.pseudonym(d.subject)
                      for d in drafts if d.subject is not None}
        receipts: list[Receipt] = (self.store.append(
            lambda tx: append_tx(self, tx, drafts, pseudonyms)))
        self.state_tables_ready = True  # created (if absent) by a committed append
        if any(d.type in ("SubjectErased", "DataAnonymised") for d in drafts):
            self.store.checkpoint_wal()
        if self.checkpoint_every:
            after_append(self, [r.seq for r in receipts if r.new])
        return receipts

    # -- the folded state of the streams (ledger.app.stream_state) ---------------------
    def rebuild_state(self) -> int:
        """Build the state the rules read from the chain again; the streams built."""
        return stream_state.rebuild_store(self.store)

    def check_state(self) -> stream_state.StateCheck:
        """Compare the stored state with a fresh replay of the chain."""
        return stream_state.check_store(self.store)

    # -- reading ------------------------------------------------------------------
    def verify(self, *, on_progress: Callable[[int], None] | None = None,
               workers: int | None = None, spawn: bool = False) -> VerificationResult:
        """Verify entries 1..head; see :func:`ledger.app.checking.verify_store`."""
        return verify_store(self.store, self.url, self.name, workers=workers, spawn=spawn,
                            on_progress=on_progress)

    def head(self) -> tuple[int, str]:
        h = self.store.read(lambda tx: tx.head())
        return (0, GENESIS_HASH) if h is None else (h.seq, h.hash)

    def time_zone(self) -> str:
        """The time zone times are shown in to people: the policy's in force now.

        Before any policy is in force, the last one published; ``UTC`` when none
        was.  JSON and the chain stay in UTC.
        """
        return load_policies(self.store).time_zone(self.clock())

    def show(self, seq: int) -> dict[str, Any] | None:
        for row in list(self.store.entries(start=seq, page=1)):
            if row.seq == seq:
                return self._readable([row])[0]
        return None

    def log(self, subject_ref: str | None = None, *, start: int = 1,
            types: Sequence[str] = (), until: int | None = None) -> Iterator[dict[str, Any]]:
        """Entries from ``start`` (up to ``until`` when given), decrypted where keys allow."""
        stream = self.pseudonym(subject_ref) if subject_ref is not None else None
        yield from readable_pages(self, self.store.entries(start=start, stream=stream,
                                                           types=types), until)

    def _readable(self, rows: list[Any]) -> list[dict[str, Any]]:
        return readable(self, rows)

    # -- convenience commands --------------------------------------------------------
    def erase(self, subject_ref: str, *, ground: str, request_id: str | None = None,
              actor: str | None = None, occurred_at: datetime | None = None) -> Receipt:
        given: dict[str, Any] = {"ground": ground}
        if request_id:
            given["request_id"] = request_id
        if occurred_at is not None:
            given["occurred_at"] = format_time(occurred_at)
        raw = erasure_event(subject_ref, given, self.clock())
        if actor:
            raw["actor"] = actor
        return self._single(raw)

    def erasure_preview(self, subject_ref: str) -> ErasurePreview:
        """What :meth:`erase` would destroy now (counts and names, no personal value) and
        why the rules would refuse it, if they would; changes nothing."""
        draft = self.parse([erasure_event(subject_ref, {}, self.clock())])[0]
        return read_erasure_preview(self, self.pseudonym(subject_ref), draft)

    def publish_policy(self, policy: Policy, *, actor: str | None = None,
                       occurred_at: datetime | None = None) -> Receipt:
        raw: dict[str, Any] = {
            "type": "PolicyPublished",
            "occurred_at": format_time(occurred_at or self.clock()),
            "data": {"policy": policy.to_json()},
        }
        if actor:
            raw["actor"] = actor
        return self._single(raw)

    def _single(self, raw: dict[str, Any]) -> Receipt:
        """Append one event built by a command: its errors carry no line number."""
        try:
            return self.append([raw])[0]
        except InputError as exc:
            raise type(exc)(exc.field, exc.rule) from None


def _check_fingerprint(meta: dict[str, Any], ring: KeyRing) -> None:
    if meta["key_fingerprint"] != ring.fingerprint:
        raise KeyError_("the master key does not belong to this ledger (key check value "
                        "differs): check LEDGER_MASTER_KEY / LEDGER_KEY_DIR")

