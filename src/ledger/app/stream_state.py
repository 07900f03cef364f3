"""The folded state of the streams: read for an append, saved with it, built from the chain.

An append reads, for each stream its batch touches, ONE state row by primary key
(:mod:`ledger.storage.stream_state`), and looks up consent choices and collections by
index (:class:`StoredHistory`): its cost does not grow with the stream's history.  The
state rows, the new consent choices and the head they are built up to
(``built_seq``) are written in the append's transaction.

A ledger written by a version without these tables (or whose state is behind the
head for any reason) has its state built from the chain by the next append, once,
inside that append's transaction (:func:`ensure_built`).  ``ledger state rebuild``
builds it again from the chain; ``ledger state check`` compares it with a fresh
replay of the chain (:func:`check`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ledger.app.checking import open_checked_store
from ledger.domain.state import BreachState, Choice, Recorded, SubjectState
from ledger.storage import AppendTx, StoredRow
from ledger.trust.canonical import format_time, parse_time

__all__ = [
    "StateCheck",
    "StoredHistory",
    "Streams",
    "check",
    "check_state_at",
    "check_store",
    "ensure_built",
    "fold_rows",
    "rebuild",
    "rebuild_state_at",
    "rebuild_store",
    "save",
]


def is_subject_stream(stream: str | None) -> bool:
    return bool(stream) and stream != "policy" and not stream.startswith(  # type: ignore[union-attr]
        ("breach/", "notice/"))


class StoredHistory:
    """A subject's stored choices and collections, looked up by index in the append's
    transaction (:class:`ledger.domain.state.SubjectHistory`).

    ``latest``: the latest stored choice of some purposes, read for the whole batch in
    one statement (:func:`load`); a purpose in it with no choice stored has ``None``.
    A look-up at a time before that choice asks the database."""

    def __init__(self, tx: AppendTx, stream: str,
                 latest: dict[str, Choice | None] | None = None) -> None:
        self.tx = tx
        self.stream = stream
        self.latest = latest or {}

    def latest_choice(self, purpose: str, at: datetime) -> Choice | None:
        if purpose in self.latest:
            known = self.latest[purpose]
            if known is None or known[0] <= at:  # the latest of all occurred by `at`
                return known
        row = self.tx.latest_choice(self.stream, purpose, format_time(at))
        if row is None:
            return None
        return parse_time(row[0]), row[1], row[2], row[3]

    def collection_category(self, event_id: str) -> str | None:
        return self.tx.collection_category(self.stream, event_id)


@dataclass
class Streams:
    """The states of the streams of one batch (or of a fold of the whole chain)."""

    subjects: dict[str, SubjectState] = field(default_factory=dict)
    breaches: dict[str, BreachState] = field(default_factory=dict)

    def apply(self, stream: str | None, rec: Recorded) -> None:
        if stream is None:
            return
        if stream.startswith("breach/"):
            self.breaches.setdefault(stream, BreachState()).apply(rec)
        elif is_subject_stream(stream):
            self.subjects.setdefault(stream, SubjectState()).apply(rec)


def recorded(row: StoredRow) -> Recorded:
    entry = json.loads(row.state)
    return Recorded(row.seq, row.event_id, row.type, parse_time(entry["occurred_at"]),
                    entry["payload"])


def fold_rows(rows: Iterable[StoredRow]) -> Streams:
    """The states of every subject and breach stream among ``rows`` (in seq order)."""
    streams = Streams()
    for row in rows:
        if row.stream is not None and (row.stream.startswith("breach/")
                                       or is_subject_stream(row.stream)):
            streams.apply(row.stream, recorded(row))
    return streams


def ensure_built(tx: AppendTx, head_seq: int, *, create: bool = True) -> bool:
    """Build the state from the chain if it is not built up to ``head_seq``; True if built.
    ``create``: create the tables first if absent (a ledger of an older version)."""
    if create:
        tx.create_stream_state()
    if (tx.state_built_seq() or 0) == head_seq:
        return False
    rebuild(tx, head_seq)
    return True


def rebuild(tx: AppendTx, head_seq: int) -> int:
    """Drop the state and fold the whole chain again; the number of streams built."""
    tx.clear_stream_state()
    streams = fold_rows(tx.all_events())
    save(tx, streams, head_seq)
    return len(streams.subjects) + len(streams.breaches)


def load(tx: AppendTx, subjects: Iterable[str], breaches: Iterable[str],
         purposes: Iterable[tuple[str, str]] = ()) -> Streams:
    """The stored states of ``subjects`` and ``breaches`` (one read by primary key), with
    the latest stored choice of each ``(subject, purpose)`` of ``purposes`` (one read)."""
    subjects, breaches = sorted(set(subjects)), sorted(set(breaches))
    rows = tx.stream_states([*subjects, *breaches])
    # A subject without a state row has no event, hence no choice, stored: not asked.
    pairs = sorted(set(purposes))
    wanted = [(s, p) for s, p in pairs if s in rows]
    latest: dict[str, dict[str, Choice | None]] = {}
    for s, p in pairs:
        latest.setdefault(s, {})[p] = None
    if wanted:
        for (s, p), (at, seq, state, version) in tx.latest_choices(wanted).items():
            latest[s][p] = (parse_time(at), seq, state, version)
    out = Streams()
    for s in subjects:
        history = StoredHistory(tx, s, latest.get(s))
        out.subjects[s] = SubjectState.from_json(rows[s][1], rows[s][0], history) \
            if s in rows else SubjectState(history=history)
    for b in breaches:
        out.breaches[b] = BreachState.from_json(rows[b][1], rows[b][0]) \
            if b in rows else BreachState()
    return out


def save(tx: AppendTx, streams: Streams, head_seq: int,
         touched: Iterable[str] | None = None) -> None:
    """Write the states (all, or those of ``touched``), their new choices and
    ``built_seq``."""
    keep = None if touched is None else set(touched)
    states: list[tuple[str, int, str]] = []
    choices: list[tuple[str, str, str, int, str, str | None]] = []
    for name, s in streams.subjects.items():
        if keep is None or name in keep:
            states.append((name, s.seq, s.to_json()))
            choices.extend((name, purpose, format_time(c[0]), c[1], c[2], c[3])
                           for purpose, cs in s.new_choices.items() for c in cs)
    for name, b in streams.breaches.items():
        if keep is None or name in keep:
            states.append((name, b.seq, b.to_json()))
    tx.put_stream_states(states)
    tx.add_choices(choices)
    tx.set_state_built(head_seq)


@dataclass(frozen=True, slots=True)
class StateCheck:
    """The stored state compared with a fresh replay of the chain."""

    head: int
    built_seq: int | None
    streams: int
    choices: int
    differences: list[str]

    @property
    def same(self) -> bool:
        return not self.differences

    def as_dict(self) -> dict[str, Any]:
        return {"same": self.same, "head": self.head, "built_seq": self.built_seq,
                "streams": self.streams, "choices": self.choices,
                "differences": self.differences}


def check(tx: AppendTx) -> StateCheck:
    """Compare the stored state (rows, choices, built_seq) with a replay of the chain."""
    head = tx.head()
    head_seq = 0 if head is None else head.seq
    fresh = fold_rows(tx.all_events())
    want_states = {name: (s.seq, s.to_json()) for name, s in fresh.subjects.items()}
    want_states |= {name: (b.seq, b.to_json()) for name, b in fresh.breaches.items()}
    want_choices = sorted((name, purpose, format_time(c[0]), c[1], c[2], c[3])
                          for name, s in fresh.subjects.items()
                          for purpose, cs in s.new_choices.items() for c in cs)
    tx.create_stream_state()  # an old ledger: the tables may be absent (created empty)
    built = tx.state_built_seq()
    have_states = {name: (seq, state) for name, seq, state in tx.all_stream_states()}
    have_choices = sorted(tx.all_choices())
    # a ledger with no entry has nothing to build: "not built" and "built up to 0" agree
    diffs = [] if (built or 0) == head_seq else [
        f"built up to seq {built or 0}, head is {head_seq}"]
    for name in sorted(set(want_states) | set(have_states)):
        if want_states.get(name) != have_states.get(name):
            diffs.append(f"stream {name}: stored {have_states.get(name)}, "
                         f"replayed {want_states.get(name)}")
    if want_choices != have_choices:
        missing = len(set(want_choices) - set(have_choices))
        extra = len(set(have_choices) - set(want_choices))
        diffs.append(f"consent choices: {missing} missing, {extra} not in the chain")
    return StateCheck(head_seq, built, len(want_states), len(want_choices), diffs)


def rebuild_store(store: Any) -> int:
    """``ledger state rebuild``: build the state again from the chain, in one write
    transaction (the append lock is held); the number of streams built.  Needs no
    master key: the state holds no personal value."""
    def run(tx: AppendTx) -> int:
        tx.create_stream_state()
        head = tx.head()
        return rebuild(tx, 0 if head is None else head.seq)

    built: int = store.append(run)
    return built


def check_store(store: Any) -> StateCheck:
    """``ledger state check``: the stored state compared with a replay of the chain, under
    the append lock (so no append moves the head meanwhile).  It writes nothing but the
    empty state tables of a ledger of an older version."""
    result: StateCheck = store.append(check)
    return result


def rebuild_state_at(url: str, name: str) -> int:
    """:func:`rebuild_store` on the ledger ``name`` at ``url`` (no master key needed)."""
    store, _ = open_checked_store(url, name)
    try:
        return rebuild_store(store)
    finally:
        store.close()


def check_state_at(url: str, name: str) -> StateCheck:
    """:func:`check_store` on the ledger ``name`` at ``url`` (no master key needed)."""
    store, _ = open_checked_store(url, name)
    try:
        return check_store(store)
    finally:
        store.close()
