# Over 400 lines (see wc -l): issue 15 splits it by layer (domain/, keys/, app/, cli/); it is kept
# whole this session so that issue 10 lands without moving files (docs/DECISIONS.md 44-45).
"""The application layer: what the CLI (and later the HTTP API) call.

``Ledger.append`` is the only write path.  For a batch it

    (1) parses every event (nothing touches the database if one is bad);
    (2) opens one transaction that holds the append lock;
    (3) reads the head, the already-stored event ids, the policies and the
        history of every stream the batch touches;
    (4) checks each new event's rules, seals its personal fields under its
        subject's data key, builds its entry (seq = head + 1, prev_hash = head
        hash) and hashes it; an erasure destroys keys here;
    (5) inserts the entries and commits — or, on any error, stores nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.app.checking import guard as _guard
from ledger.app.checking import ledger_id_for, open_checked_store, read_meta, verify_store
from ledger.app.erasure_preview import ErasurePreview, fold_erasure_preview
from ledger.app.proofs import after_append, checkpoint_interval, prover_of
from ledger.domain.events import (
    CATALOGUE,
    Draft,
    Event,
    FieldSpec,
    parse_unverified_event,
    payload_of,
    utcnow,
)
from ledger.domain.periods import DEFAULT_TIME_ZONE
from ledger.domain.policy import Policy, policy_digest
from ledger.domain.retries import UNREADABLE, first_difference
from ledger.domain.rules import (
    BreachState,
    PolicyBook,
    Recorded,
    SubjectState,
    check_draft,
    notice_streams,
    stream_of,
)
from ledger.errors import ConflictError, InputError, KeyError_, LedgerError, PolicyError
from ledger.keys.keystore import load_master, plan_master, write_secret
from ledger.keys.sealing import KeyRing, is_sealed, new_data_key, parse_sealed
from ledger.storage import AppendTx, KeyRow, StoredRow, open_store
from ledger.trust.canonical import format_time, parse_time
from ledger.trust.chain import GENESIS_HASH, Entry, entry_hash
from ledger.trust.verify import VerificationResult

__all__ = ["ERASED", "FORMAT_VERSION", "Ledger", "Receipt", "ledger_id_for"]

FORMAT_VERSION = 1
ERASED = "[erased]"
SUBJECT_SCOPE = "subject"
ACCESS = "PersonalDataAccessed"  # ledger.app.accesses: recorded reads, no personal value


@dataclass(frozen=True, slots=True)
class Receipt:
    seq: int
    event_id: str
    hash: str
    new: bool

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "event_id": self.event_id, "hash": self.hash}


def _recorded(row: StoredRow) -> tuple[Recorded, dict[str, Any]]:
    entry = json.loads(row.state)
    return (Recorded(row.seq, row.event_id, row.type, parse_time(entry["occurred_at"]),
                     entry["payload"]), entry)


class _Keys:
    """Data keys of the subjects of one transaction, unwrapped on demand."""

    def __init__(self, ring: KeyRing, rows: list[KeyRow]) -> None:
        self.ring = ring
        self.live: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.max_epoch: dict[tuple[str, str], int] = {}
        for r in rows:
            k = (r.subject, r.scope)
            self.max_epoch[k] = max(self.max_epoch.get(k, 0), r.epoch)
            if r.wrapped is not None and r.epoch >= self.live.get(k, (0, b""))[0]:
                self.live[k] = (r.epoch, r.wrapped)
        self.by_epoch = {(r.subject, r.scope, r.epoch): r.wrapped for r in rows}
        self.unwrapped: dict[tuple[str, str], tuple[int, AESGCM]] = {}  # this transaction only

    def for_sealing(self, tx: AppendTx, subject: str, scope: str) -> tuple[int, AESGCM]:
        k = (subject, scope)
        if k in self.unwrapped:
            return self.unwrapped[k]
        if k in self.live:
            epoch, wrapped = self.live[k]
            key = self.ring.unwrap(wrapped, subject, scope, epoch)
        else:
            epoch = self.max_epoch.get(k, 0) + 1
            key = new_data_key()
            wrapped = self.ring.wrap(key, subject, scope, epoch)
            tx.put_key(subject, scope, epoch, wrapped)
            self.live[k] = (epoch, wrapped)
            self.max_epoch[k] = epoch
        self.unwrapped[k] = (epoch, AESGCM(key))
        return self.unwrapped[k]

    def destroyed(self, subject: str, scopes: Sequence[str] | None) -> None:
        for k in list(self.live):
            if k[0] == subject and (scopes is None or k[1] in scopes):
                del self.live[k]
                self.unwrapped.pop(k, None)

    def for_opening(self, subject: str, scope: str, epoch: int) -> bytes | None:
        wrapped = self.by_epoch.get((subject, scope, epoch))
        return None if wrapped is None else self.ring.unwrap(wrapped, subject, scope, epoch)


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

    # -- opening ----------------------------------------------------------------
    @classmethod
    def init(cls, url: str, name: str = "main", env: Mapping[str, str] | None = None) \
            -> tuple[Ledger, str]:
        """Create the schema and keys if absent; return the ledger and what was done."""
        env = os.environ if env is None else env
        # every check first, writing nothing: a refused init changes nothing on disk
        master, key_path, fresh_master = plan_master(url, env)
        lid = ledger_id_for(name)
        store = _guard(lambda: open_store(url, lid))
        try:
            ring = KeyRing(master, str(lid))
            meta = _guard(lambda: store.read(lambda tx: read_meta(tx, str(lid)))) \
                if _guard(store.schema_exists) else None
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
        _guard(store.create_table)
        if fresh_master and key_path is not None:
            write_secret(key_path, master)
        if meta is None:
            _guard(lambda: store.append(lambda tx: _write_meta(tx, str(lid), name,
                                                               ring.fingerprint)))
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
        receipts: list[Receipt] = _guard(lambda: self.store.append(
            lambda tx: self._append_tx(tx, drafts, pseudonyms)))
        if any(d.type in ("SubjectErased", "DataAnonymised") for d in drafts):
            _guard(self.store.checkpoint_wal)
        if self.checkpoint_every:
            after_append(self, [r.seq for r in receipts if r.new])
        return receipts

    def _policies(self, tx: AppendTx) -> PolicyBook:
        last = tx.last_seq_of_type("PolicyPublished")
        if last != self._book_seq:
            book = PolicyBook()
            for row in tx.streams(["policy"]):
                entry = json.loads(row.state)
                book.add(row.seq, Policy.from_json(entry["payload"]["policy"]))
            self._book, self._book_seq = book, last
        return self._book

    def _append_tx(self, tx: AppendTx, drafts: Sequence[Draft],
                   pseudonyms: dict[str, str]) -> list[Receipt]:
        # (3) what the batch needs to know
        head = tx.head()
        seq, prev_hash, prev_time = 0, GENESIS_HASH, ""
        if head is not None:
            seq, prev_hash = head.seq, head.hash
            prev_time = json.loads(head.state)["recorded_at"]
        recorded_at = max(format_time(self.clock()), prev_time)
        existing = tx.find_event_ids([d.event_id for d in drafts if d.event_id_given])
        book = self._policies(tx)
        subjects: dict[str, SubjectState] = {}
        breaches: dict[str, BreachState] = {}
        # An access record needs no history nor key: its subjects are not read for it alone
        # (a `ledger log` over the whole ledger records one per subject in one append).
        streams = {pseudonyms[d.subject] for d in drafts
                   if d.subject is not None and d.type != ACCESS}
        streams |= {f"breach/{d.event.breach_id}"  # type: ignore[attr-defined]
                    for d in drafts if d.type.startswith("Breach")}
        streams |= notice_streams(drafts)
        notices: dict[str, Recorded] = {}  # notice_id -> its NoticePublished
        for row in tx.streams(sorted(streams)):
            rec, _ = _recorded(row)
            if row.stream and row.stream.startswith("breach/"):
                breaches.setdefault(row.stream, BreachState()).apply(rec)
            elif row.stream and row.stream.startswith("notice/"):
                notices[rec.payload["notice_id"]] = rec
            elif row.stream:
                subjects.setdefault(row.stream, SubjectState()).apply(rec)
        keys = _Keys(self.ring, tx.keys(sorted(s for s in streams
                                               if not s.startswith("breach/"))))

        # (4) each event in order
        receipts: list[Receipt] = []
        rows: list[StoredRow] = []
        seen: dict[str, tuple[Receipt, Draft, str | None]] = {}
        for line, d in enumerate(drafts, start=1):
            subject = pseudonyms.get(d.subject) if d.subject is not None else None
            if d.event_id in existing or d.event_id in seen:
                receipts.append(self._replay(d, subject, existing=existing, seen=seen,
                                             keys=keys, line=line))
                continue
            try:
                payload = payload_of(d.event)
                sstate = subjects.setdefault(subject, SubjectState()) if subject else None
                stream = stream_of(d.type, subject, payload)
                bstate = breaches.setdefault(stream, BreachState()) \
                    if stream and stream.startswith("breach/") else None
                if d.type == "PolicyPublished":
                    policy = self._check_policy(payload, book)
                check_draft(d, payload, book=book, subject=sstate or SubjectState(),
                            breach=bstate, notices=notices)
                if subject is not None:
                    self._seal(tx, keys, d, subject=subject, payload=payload, state=sstate)
            except InputError as exc:
                raise exc.at_line(line) from None
            seq += 1
            entry = Entry(seq=seq, event_id=d.event_id, type=d.type, subject=subject,
                          occurred_at=format_time(d.occurred_at), recorded_at=recorded_at,
                          actor=d.actor, payload=payload, prev_hash=prev_hash)
            data = entry.canonical()
            prev_hash = entry_hash(data)
            rows.append(StoredRow(seq, d.event_id, d.type, stream, data, prev_hash))
            receipt = Receipt(seq, d.event_id, prev_hash, True)
            receipts.append(receipt)
            if d.event_id_given:
                seen[d.event_id] = (receipt, d, subject)
            rec = Recorded(seq, d.event_id, d.type, d.occurred_at, payload)
            if sstate is not None:
                sstate.apply(rec)
            if bstate is not None:
                bstate.apply(rec)
            if d.type == "NoticePublished":
                notices[payload["notice_id"]] = rec
            if d.type == "PolicyPublished":
                book.add(seq, policy)
                self._book_seq = -1  # the cache holds this batch's policy: reload next time
            if d.type == "SubjectErased" and subject is not None:
                tx.destroy_keys(subject, None, seq)
                keys.destroyed(subject, None)
            elif d.type == "DataAnonymised" and subject is not None:
                tx.destroy_keys(subject, payload["categories"], seq)
                keys.destroyed(subject, payload["categories"])
        # (5) store
        if rows:
            tx.insert(rows)
        return receipts

    def _replay(self, d: Draft, subject: str | None, *, existing: dict[str, StoredRow],
                seen: dict[str, tuple[Receipt, Draft, str | None]], keys: _Keys,
                line: int) -> Receipt:
        """A retry: the stored receipt if the content is the same (ledger.domain.retries), else
        ConflictError naming the first differing field."""
        new = _retry_form(d, subject)
        if d.event_id in seen:
            receipt, earlier, earlier_subject = seen[d.event_id]
            differs = first_difference(new, _retry_form(earlier, earlier_subject),
                                       lambda v, p: UNREADABLE)
        else:
            row = existing[d.event_id]
            receipt = Receipt(row.seq, row.event_id, row.hash, False)  # already stored
            stored = json.loads(row.state)

            def opener(value: str, path: str) -> Any:
                ref = parse_sealed(value)
                key = keys.for_opening(stored["subject"], ref.scope, ref.epoch)
                if key is None:
                    return UNREADABLE
                return self.ring.open(ref, key=key, subject=stored["subject"],
                                      event_id=d.event_id, path=path)

            differs = first_difference(new, stored, opener)
        if differs is not None:
            raise ConflictError(differs, line=line, event_id=d.event_id, seq=receipt.seq)
        return receipt  # twice in one batch: the receipt of its first occurrence

    def _check_policy(self, payload: dict[str, Any], book: PolicyBook) -> Policy:
        try:
            policy = Policy.from_json(payload["policy"])
        except PolicyError as exc:
            raise InputError(f"data.policy.{exc.field}", exc.rule) from None
        digest = policy_digest(policy)
        known = book.version(policy.version)
        if known is not None:
            same = policy_digest(known) == digest
            raise InputError("data.policy.version", f"version {policy.version} is already "
                             "published" + ("" if same else " with other content: give the "
                                            "new text a new version"))
        payload["policy"] = policy.to_json()
        payload["version"] = policy.version
        payload["digest"] = digest
        return policy

    def _seal(self, tx: AppendTx, keys: _Keys, d: Draft, *, subject: str,
              payload: dict[str, Any], state: SubjectState | None) -> None:
        """Replace every personal value of ``payload`` by its sealed form."""
        def seal(value: Any, scope: str, path: str) -> str:
            epoch, key = keys.for_sealing(tx, subject, scope)
            return self.ring.seal(value, key=key, scope=scope, epoch=epoch, subject=subject,
                                  event_id=d.event_id, path=path)

        for name, fs in type(d.event).specs():
            if name not in payload:
                continue
            if fs.kind == "values":
                scope = _values_scope(d, payload, state)
                payload[name] = {k: seal(v, scope, f"data.{name}.{k}")
                                 for k, v in payload[name].items()}
            elif fs.personal:
                payload[name] = seal(payload[name], SUBJECT_SCOPE, f"data.{name}")
            elif fs.kind == "object":
                for sub, sfs in fs.sub:
                    if sfs.personal and sub in payload[name]:
                        payload[name][sub] = seal(payload[name][sub], SUBJECT_SCOPE,
                                                  f"data.{name}.{sub}")

    # -- reading ------------------------------------------------------------------
    def verify(self, *, on_progress: Callable[[int], None] | None = None,
               workers: int | None = None, spawn: bool = False) -> VerificationResult:
        """Verify entries 1..head; see :func:`ledger.app.checking.verify_store`."""
        return verify_store(self.store, self.url, self.name, workers=workers, spawn=spawn,
                            on_progress=on_progress)

    def head(self) -> tuple[int, str]:
        h = _guard(lambda: self.store.read(lambda tx: tx.head()))
        return (0, GENESIS_HASH) if h is None else (h.seq, h.hash)

    def time_zone(self) -> str:
        """The time zone times are shown in to people: the policy's in force now.

        Before any policy is in force, the last one published; ``UTC`` when none
        was.  JSON and the chain stay in UTC.
        """
        book = PolicyBook()
        for row in _guard(lambda: list(self.store.entries(types=["PolicyPublished"]))):
            book.add(row.seq, Policy.from_json(json.loads(row.state)["payload"]["policy"]))
        policy = book.in_force(self.clock()) or (
            book.published[-1][2] if book.published else None)
        return policy.time_zone if policy is not None else DEFAULT_TIME_ZONE

    def show(self, seq: int) -> dict[str, Any] | None:
        for row in _guard(lambda: list(self.store.entries(start=seq, page=1))):
            if row.seq == seq:
                return self._readable([row])[0]
        return None

    def log(self, subject_ref: str | None = None, *, start: int = 1,
            types: Sequence[str] = (), until: int | None = None) -> Iterator[dict[str, Any]]:
        """Entries from ``start`` (up to ``until`` when given), decrypted where keys allow."""
        stream = self.pseudonym(subject_ref) if subject_ref is not None else None
        batch: list[StoredRow] = []
        for row in self.store.entries(start=start, stream=stream, types=types):
            if until is not None and row.seq > until:
                break
            batch.append(row)
            if len(batch) == 500:
                yield from self._readable(batch)
                batch = []
        if batch:
            yield from self._readable(batch)

    def _readable(self, rows: list[StoredRow]) -> list[dict[str, Any]]:
        """Entries with personal values opened where keys allow, ``[erased]`` elsewhere."""
        entries = [json.loads(r.state) for r in rows]
        subjects = sorted({e["subject"] for e in entries if e["subject"]})
        keys = _Keys(self.ring, _guard(lambda: self.store.read(lambda tx: tx.keys(subjects))))
        out = []
        for row, e in zip(rows, entries, strict=True):
            data = _open_all(e["payload"], keys, e["subject"], e["event_id"], "data")
            out.append({"seq": e["seq"], "event_id": e["event_id"], "type": e["type"],
                        "subject": e["subject"], "occurred_at": e["occurred_at"],
                        "recorded_at": e["recorded_at"], "actor": e["actor"], "data": data,
                        "prev_hash": e["prev_hash"], "hash": row.hash})
        return out

    # -- convenience commands --------------------------------------------------------
    def erase(self, subject_ref: str, *, ground: str, request_id: str | None = None,
              actor: str | None = None, occurred_at: datetime | None = None) -> Receipt:
        data: dict[str, Any] = {"ground": ground}
        if request_id:
            data["request_id"] = request_id
        raw = {"type": "SubjectErased", "subject": subject_ref,
               "occurred_at": format_time(occurred_at or self.clock()), "data": data}
        if actor:
            raw["actor"] = actor
        return self._single(raw)

    def erasure_preview(self, subject_ref: str) -> ErasurePreview:
        """What :meth:`erase` would destroy now (counts and names, no personal value) and
        why the rules would refuse it, if they would; changes nothing."""
        pseudonym = self.pseudonym(subject_ref)
        draft = self.parse([{"type": "SubjectErased", "subject": subject_ref,
                             "occurred_at": format_time(self.clock()),
                             "data": {"ground": "no_longer_necessary"}}])[0]

        def read(tx: AppendTx) -> ErasurePreview:
            rows = tx.streams([pseudonym])
            state = SubjectState()
            for row in rows:
                state.apply(_recorded(row)[0])
            blocked = None
            try:
                check_draft(draft, payload_of(draft.event), book=self._policies(tx),
                            subject=state, breach=None)
            except InputError as exc:
                blocked = exc.rule
            return fold_erasure_preview(pseudonym, rows, tx.keys([pseudonym]),
                                        holds=sorted(state.holds), blocked=blocked)

        preview: ErasurePreview = _guard(lambda: self.store.read(read))
        return preview

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


def _retry_form(d: Draft, subject: str | None) -> dict[str, Any]:
    """A draft as :func:`ledger.domain.retries.first_difference` compares it (not sealed)."""
    return {"type": d.type, "subject": subject, "occurred_at": format_time(d.occurred_at),
            "actor": d.actor, "payload": payload_of(d.event)}


def _values_scope(d: Draft, payload: dict[str, Any], state: SubjectState | None) -> str:
    if d.type == "DataCollected" or state is None:
        return str(payload["category"])
    return state.collections[payload["collection_id"]]


def _open_all(value: Any, keys: _Keys, subject: str | None, event_id: str, path: str) -> Any:
    if isinstance(value, dict):
        return {k: _open_all(v, keys, subject, event_id, f"{path}.{k}")
                for k, v in value.items()}
    if isinstance(value, list):
        return value
    if is_sealed(value) and subject is not None:
        ref = parse_sealed(value)
        key = keys.for_opening(subject, ref.scope, ref.epoch)
        if key is None:
            return ERASED
        return keys.ring.open(ref, key=key, subject=subject, event_id=event_id, path=path)
    return value


def _write_meta(tx: AppendTx, lid: str, name: str, fingerprint: str) -> None:
    tx.c.execute(tx._sql(f"INSERT INTO {tx.t.meta} (ledger_id, name, key_fingerprint, "
                         "format, created_at) VALUES (?,?,?,?,?)"),
                 (lid, name, fingerprint, FORMAT_VERSION, format_time(utcnow())))


def _check_fingerprint(meta: dict[str, Any], ring: KeyRing) -> None:
    if meta["key_fingerprint"] != ring.fingerprint:
        raise KeyError_("the master key does not belong to this ledger (key check value "
                        "differs): check LEDGER_MASTER_KEY / LEDGER_KEY_DIR")


_ = (CATALOGUE, Event, FieldSpec)
