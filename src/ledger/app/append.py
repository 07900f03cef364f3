"""The write transaction: ``Ledger.append`` is the only write path.  For a batch it

    (1) parses every event (nothing touches the database if one is bad);
    (2) opens one transaction that holds the append lock;
    (3) reads the head, the already-stored event ids, the policies and the FOLDED STATE
        of every stream the batch touches (one row per stream, by primary key, plus
        index look-ups: :mod:`ledger.app.stream_state`), building that state from the
        chain first if it is behind the head (a ledger of an older version);
    (4) checks each new event's rules (:mod:`ledger.domain.rules`), seals its personal
        fields under its subject's data key, builds its entry (seq = head + 1,
        prev_hash = head hash) and hashes it; an erasure destroys keys here;
    (5) inserts the entries and the new stream states and commits — or, on any error,
        stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.app import stream_state
from ledger.app.tx_keys import TxKeys
from ledger.domain.events import Draft, payload_of
from ledger.domain.policy import Policy, policy_digest
from ledger.domain.retries import UNREADABLE, first_difference
from ledger.domain.rules import (
    PolicyBook,
    Recorded,
    SubjectState,
    check_draft,
    notice_streams,
    stream_of,
)
from ledger.errors import ConflictError, InputError, PolicyError
from ledger.keys.sealing import parse_sealed
from ledger.storage import AppendTx, StoredRow
from ledger.trust.canonical import format_time
from ledger.trust.chain import GENESIS_HASH, Entry, entry_hash

if TYPE_CHECKING:
    from ledger.app.application import Ledger

__all__ = ["ACCESS", "SUBJECT_SCOPE", "Receipt", "append_tx", "policies"]

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


def policies(ledger: Ledger, tx: AppendTx) -> PolicyBook:
    """Every published policy (cached on the ledger until a new one is published)."""
    last = tx.last_seq_of_type("PolicyPublished")
    if last != ledger._book_seq:
        book = PolicyBook()
        for row in tx.streams(["policy"]):
            entry = json.loads(row.state)
            book.add_json(row.seq, entry["payload"]["policy"])
        ledger._book, ledger._book_seq = book, last
    return ledger._book


def append_tx(ledger: Ledger, tx: AppendTx, drafts: Sequence[Draft],
              pseudonyms: dict[str, str]) -> list[Receipt]:
    return _Batch(ledger, tx, drafts, pseudonyms).run()


class _Batch:
    """One batch inside the append transaction."""

    def __init__(self, ledger: Ledger, tx: AppendTx, drafts: Sequence[Draft],
                 pseudonyms: dict[str, str]) -> None:
        self.ledger, self.tx, self.drafts, self.pseudonyms = ledger, tx, drafts, pseudonyms
        self.receipts: list[Receipt] = []
        self.rows: list[StoredRow] = []
        self.seen: dict[str, tuple[Receipt, Draft, str | None]] = {}
        self.notices: dict[str, Recorded] = {}  # notice_id -> its NoticePublished

    def run(self) -> list[Receipt]:
        self._read()
        for line, d in enumerate(self.drafts, start=1):
            subject = self.pseudonyms.get(d.subject) if d.subject is not None else None
            if d.event_id in self.existing or d.event_id in self.seen:
                self.receipts.append(self._replay(d, subject, line))
            else:
                self._add(d, subject, line)
        # (5) store
        if self.rows:
            self.tx.insert(self.rows)
            stream_state.save(self.tx, self.states, self.seq, self.touched)
        return self.receipts

    def _read(self) -> None:
        """(3) what the batch needs to know."""
        tx, drafts = self.tx, self.drafts
        head = tx.head()
        self.seq, self.prev_hash, prev_time = 0, GENESIS_HASH, ""
        if head is not None:
            self.seq, self.prev_hash = head.seq, head.hash
            prev_time = json.loads(head.state)["recorded_at"]
        self.recorded_at = max(format_time(self.ledger.clock()), prev_time)
        self.existing = tx.find_event_ids([d.event_id for d in drafts if d.event_id_given])
        self.book = policies(self.ledger, tx)
        stream_state.ensure_built(tx, self.seq, create=not self.ledger.state_tables_ready)
        subjects = {self.pseudonyms[d.subject] for d in drafts if d.subject is not None}
        breaches = {f"breach/{d.event.breach_id}"  # type: ignore[attr-defined]
                    for d in drafts if d.type.startswith("Breach")}
        purposes = {(self.pseudonyms[d.subject], d.event.purpose)  # type: ignore[attr-defined]
                    for d in drafts if d.subject is not None
                    and isinstance(getattr(d.event, "purpose", None), str)}
        self.states = stream_state.load(tx, subjects, breaches, purposes)
        self.touched: set[str] = set()
        for row in tx.streams(sorted(notice_streams(drafts))):
            rec = stream_state.recorded(row)
            self.notices[rec.payload["notice_id"]] = rec
        # An access record needs no key: its subjects' keys are not read for it alone
        # (a `ledger log` over the whole ledger records one per subject in one append).
        keyed = {self.pseudonyms[d.subject] for d in drafts
                 if d.subject is not None and d.type != ACCESS}
        self.keys = TxKeys(self.ledger.ring, tx.keys(sorted(keyed)))

    def _add(self, d: Draft, subject: str | None, line: int) -> None:
        """(4) check, seal, chain one new event."""
        try:
            payload = payload_of(d.event)
            sstate = self.states.subjects[subject] if subject else None
            stream = stream_of(d.type, subject, payload)
            bstate = self.states.breaches.get(stream) if stream else None
            if d.type == "PolicyPublished":
                policy = _check_policy(payload, self.book)
            check_draft(d, payload, book=self.book, subject=sstate or SubjectState(),
                        breach=bstate, notices=self.notices)
            if subject is not None:
                _seal(self.ledger, self.tx, self.keys, d, subject=subject, payload=payload,
                      state=sstate)
        except InputError as exc:
            raise exc.at_line(line) from None
        self.seq += 1
        entry = Entry(seq=self.seq, event_id=d.event_id, type=d.type, subject=subject,
                      occurred_at=format_time(d.occurred_at), recorded_at=self.recorded_at,
                      actor=d.actor, payload=payload, prev_hash=self.prev_hash)
        data = entry.canonical()
        self.prev_hash = entry_hash(data)
        self.rows.append(StoredRow(self.seq, d.event_id, d.type, stream, data,
                                   self.prev_hash))
        receipt = Receipt(self.seq, d.event_id, self.prev_hash, True)
        self.receipts.append(receipt)
        if d.event_id_given:
            self.seen[d.event_id] = (receipt, d, subject)
        rec = Recorded(self.seq, d.event_id, d.type, d.occurred_at, payload)
        self._fold(d, rec, stream, sstate, policy if d.type == "PolicyPublished" else None)

    def _fold(self, d: Draft, rec: Recorded, stream: str | None, sstate: SubjectState | None,
              policy: Policy | None) -> None:
        """Fold an accepted event into the batch's states; destroy keys on erasure."""
        if stream is not None and (sstate is not None or stream in self.states.breaches):
            (sstate or self.states.breaches[stream]).apply(rec)
            self.touched.add(stream)
        if d.type == "NoticePublished":
            self.notices[rec.payload["notice_id"]] = rec
        if policy is not None:
            self.book.add(rec.seq, policy)
            self.ledger._book_seq = -1  # the cache holds this batch's policy: reload next time
        subject = stream if sstate is not None else None
        if d.type == "SubjectErased" and subject is not None:
            self.tx.destroy_keys(subject, None, rec.seq)
            self.keys.destroyed(subject, None)
        elif d.type == "DataAnonymised" and subject is not None:
            self.tx.destroy_keys(subject, rec.payload["categories"], rec.seq)
            self.keys.destroyed(subject, rec.payload["categories"])

    def _replay(self, d: Draft, subject: str | None, line: int) -> Receipt:
        """A retry: the stored receipt if the content is the same (ledger.domain.retries),
        else ConflictError naming the first differing field."""
        new = _retry_form(d, subject)
        if d.event_id in self.seen:
            receipt, earlier, earlier_subject = self.seen[d.event_id]
            differs = first_difference(new, _retry_form(earlier, earlier_subject),
                                       lambda v, p: UNREADABLE)
        else:
            row = self.existing[d.event_id]
            receipt = Receipt(row.seq, row.event_id, row.hash, False)  # already stored
            stored = json.loads(row.state)
            ring, keys = self.ledger.ring, self.keys

            def opener(value: str, path: str) -> Any:
                ref = parse_sealed(value)
                key = keys.for_opening(stored["subject"], ref.scope, ref.epoch)
                if key is None:
                    return UNREADABLE
                return ring.open(ref, key=key, subject=stored["subject"],
                                 event_id=d.event_id, path=path)

            differs = first_difference(new, stored, opener)
        if differs is not None:
            raise ConflictError(differs, line=line, event_id=d.event_id, seq=receipt.seq)
        return receipt  # twice in one batch: the receipt of its first occurrence


def _check_policy(payload: dict[str, Any], book: PolicyBook) -> Policy:
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


def _seal(ledger: Ledger, tx: AppendTx, keys: TxKeys, d: Draft, *, subject: str,
          payload: dict[str, Any], state: SubjectState | None) -> None:
    """Replace every personal value of ``payload`` by its sealed form."""
    def seal(value: Any, scope: str, path: str) -> str:
        epoch, key = keys.for_sealing(tx, subject, scope)
        return ledger.ring.seal(value, key=key, scope=scope, epoch=epoch, subject=subject,
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


def _retry_form(d: Draft, subject: str | None) -> dict[str, Any]:
    """A draft as :func:`ledger.domain.retries.first_difference` compares it (not sealed)."""
    return {"type": d.type, "subject": subject, "occurred_at": format_time(d.occurred_at),
            "actor": d.actor, "payload": payload_of(d.event)}


def _values_scope(d: Draft, payload: dict[str, Any], state: SubjectState | None) -> str:
    if d.type == "DataCollected" or state is None:
        return str(payload["category"])
    category = state.collection_category(payload["collection_id"])
    if category is None:  # pragma: no cover  (the rule refused it)
        raise AssertionError(payload["collection_id"])
    return category
