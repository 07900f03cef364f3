"""A stream's history, folded: the state the rules read (no SQL here).

A *stream* is the history a rule may look at: a subject's events (keyed by
pseudonym), one breach's events (``breach/<id>``), a notice (``notice/<id>``) or
the policies (``policy``).

The state stays BOUNDED as history grows (docs/DECISIONS.md, "stream state"): what
would grow with every event is not kept in it but looked up through
:class:`SubjectHistory`, which storage answers with one index seek:

* the consent choices of a purpose ("the latest choice, by ``(occurred_at, seq)``,
  that occurred by T", for any T: events may be back-dated);
* the category of a DataCollected, by its event id (DataRectified).

The state proper (:meth:`SubjectState.to_json`) keeps ids, categories, purposes,
times, seqs and counts — never a personal value: requests, legal holds,
restrictions, the categories collected and those shredded, the last erasure, the
number of events and whether a personal value was recorded since the erasure.

Choices and collections of the batch being appended (or of a fold from the chain's
start) are kept in memory (``new_choices``, ``new_collections``) until stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ledger.domain.sealed import is_sealed
from ledger.trust.canonical import format_time, parse_time

__all__ = ["CHOICE_STATES", "BreachState", "Choice", "NoHistory", "Recorded", "SubjectHistory",
           "SubjectState", "choice_state"]

# A consent choice: (occurred_at, seq, state, policy_version cited or None)
Choice = tuple[datetime, int, str, str | None]

CHOICE_STATES = {"ConsentGiven": "granted", "ConsentWithdrawn": "withdrawn",
                  "ConsentRefused": "refused"}


def choice_state(type_: str) -> str | None:
    """granted, withdrawn or refused for a consent choice's type; None for other types."""
    return CHOICE_STATES.get(type_)


@dataclass(frozen=True, slots=True)
class Recorded:
    """The part of a stored (or accepted) event the rules read."""

    seq: int
    event_id: str
    type: str
    occurred_at: datetime
    payload: dict[str, Any]


class SubjectHistory(Protocol):
    """What the rules look up in a subject's stored history (not held in the state)."""

    def latest_choice(self, purpose: str, at: datetime) -> Choice | None:
        """The stored choice with the latest ``(occurred_at, seq)`` that occurred by ``at``."""
        ...

    def collection_category(self, event_id: str) -> str | None:
        """The category of the stored DataCollected ``event_id`` of this subject, or None."""
        ...


class NoHistory:
    """A history with nothing stored: a fold from the start of the chain."""

    def latest_choice(self, purpose: str, at: datetime) -> Choice | None:
        return None

    def collection_category(self, event_id: str) -> str | None:
        return None


def _latest(choices: list[Choice], at: datetime, best: Choice | None) -> Choice | None:
    for choice in choices:
        if choice[0] <= at and (best is None or choice[:2] > best[:2]):
            best = choice
    return best


def _has_sealed(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_sealed(v) for v in value.values())
    return is_sealed(value)


@dataclass
class SubjectState:
    """A subject's history, folded (bounded: see the module docstring)."""

    categories: set[str] = field(default_factory=set)  # every category ever collected
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    holds: set[str] = field(default_factory=set)
    restrictions: dict[str, list[str] | None] = field(default_factory=dict)
    shredded: dict[str, int] = field(default_factory=dict)  # category -> seq
    erased_seq: int | None = None
    events: int = 0
    personal_since_erasure: bool = False
    seq: int = 0  # the last event folded in
    history: SubjectHistory = field(default_factory=NoHistory, compare=False, repr=False)
    # not stored yet: purpose -> choices, and event_id -> category
    new_choices: dict[str, list[Choice]] = field(default_factory=dict, compare=False)
    new_collections: dict[str, str] = field(default_factory=dict, compare=False)

    def apply(self, r: Recorded) -> None:
        self.events += 1
        self.seq = r.seq
        if _has_sealed(r.payload):
            self.personal_since_erasure = True
        fold = _FOLDS.get(r.type)
        if fold is not None:
            fold(self, r)

    def latest_choice(self, purpose: str, at: datetime) -> Choice | None:
        """The choice with the latest ``(occurred_at, seq)`` that occurred by ``at``."""
        return _latest(self.new_choices.get(purpose, []), at,
                       self.history.latest_choice(purpose, at))

    def consent_at(self, purpose: str, at: datetime) -> str:
        """granted, withdrawn, refused or none: the latest choice that occurred by ``at``
        (whether a grant has expired is :func:`ledger.domain.rules.consent_in_force`'s
        question)."""
        choice = self.latest_choice(purpose, at)
        return "none" if choice is None else choice[2]

    def collection_category(self, event_id: str) -> str | None:
        """The category of this subject's DataCollected ``event_id``, or None."""
        if event_id in self.new_collections:
            return self.new_collections[event_id]
        return self.history.collection_category(event_id)

    # -- stored form ---------------------------------------------------------------
    def to_json(self) -> str:
        """The compact stored form: ids, categories, purposes, times, seqs, counts."""
        return json.dumps({
            "categories": sorted(self.categories),
            "requests": {rid: {"received_at": format_time(r["received_at"]),
                               "extended": r["extended"], "closed": r["closed"]}
                         for rid, r in sorted(self.requests.items())},
            "holds": sorted(self.holds),
            "restrictions": dict(sorted(self.restrictions.items())),
            "shredded": dict(sorted(self.shredded.items())),
            "erased_seq": self.erased_seq, "events": self.events,
            "personal_since_erasure": self.personal_since_erasure,
        }, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, seq: int, history: SubjectHistory) -> SubjectState:
        j = json.loads(text)
        return cls(
            categories=set(j["categories"]),
            requests={rid: {"received_at": parse_time(r["received_at"]),
                            "extended": r["extended"], "closed": r["closed"]}
                      for rid, r in j["requests"].items()},
            holds=set(j["holds"]), restrictions=dict(j["restrictions"]),
            shredded={k: int(v) for k, v in j["shredded"].items()},
            erased_seq=j["erased_seq"], events=int(j["events"]),
            personal_since_erasure=bool(j["personal_since_erasure"]), seq=seq,
            history=history)


# -- one fold per event type that changes a subject's state ---------------------------
def _fold_choice(s: SubjectState, r: Recorded) -> None:
    state = CHOICE_STATES[r.type]
    s.new_choices.setdefault(r.payload["purpose"], []).append(
        (r.occurred_at, r.seq, state, r.payload.get("policy_version")))


def _fold_collected(s: SubjectState, r: Recorded) -> None:
    s.new_collections[r.event_id] = r.payload["category"]
    s.categories.add(r.payload["category"])
    s.shredded.pop(r.payload["category"], None)


def _fold_request_received(s: SubjectState, r: Recorded) -> None:
    s.requests[r.payload["request_id"]] = {"received_at": r.occurred_at, "extended": False,
                                           "closed": None}


def _fold_request_extended(s: SubjectState, r: Recorded) -> None:
    s.requests[r.payload["request_id"]]["extended"] = True


def _fold_request_closed(s: SubjectState, r: Recorded) -> None:
    s.requests[r.payload["request_id"]]["closed"] = r.seq


def _fold_hold_placed(s: SubjectState, r: Recorded) -> None:
    s.holds.add(r.payload["hold_id"])


def _fold_hold_released(s: SubjectState, r: Recorded) -> None:
    s.holds.discard(r.payload["hold_id"])


def _fold_restricted(s: SubjectState, r: Recorded) -> None:
    s.restrictions[r.payload["restriction_id"]] = r.payload.get("purposes")


def _fold_restriction_lifted(s: SubjectState, r: Recorded) -> None:
    s.restrictions.pop(r.payload["restriction_id"], None)


def _fold_anonymised(s: SubjectState, r: Recorded) -> None:
    for category in r.payload["categories"]:
        s.shredded[category] = r.seq


def _fold_erased(s: SubjectState, r: Recorded) -> None:
    s.erased_seq = r.seq
    s.personal_since_erasure = False
    for category in s.categories:
        s.shredded[category] = r.seq


_FOLDS: dict[str, Callable[[SubjectState, Recorded], None]] = {
    "ConsentGiven": _fold_choice, "ConsentWithdrawn": _fold_choice,
    "ConsentRefused": _fold_choice, "DataCollected": _fold_collected,
    "RightsRequestReceived": _fold_request_received,
    "RightsRequestExtended": _fold_request_extended,
    "RightsRequestFulfilled": _fold_request_closed,
    "RightsRequestRefused": _fold_request_closed,
    "LegalHoldPlaced": _fold_hold_placed, "LegalHoldReleased": _fold_hold_released,
    "ProcessingRestricted": _fold_restricted, "RestrictionLifted": _fold_restriction_lifted,
    "DataAnonymised": _fold_anonymised, "SubjectErased": _fold_erased,
}


@dataclass
class BreachState:
    """One breach's stream, folded: when it was discovered and whether it was notified."""

    discovered_at: str | None = None  # None: no BreachDetected yet
    notified: bool = False
    seq: int = 0

    def apply(self, r: Recorded) -> None:
        self.seq = r.seq
        if r.type == "BreachDetected":
            self.discovered_at = r.payload["discovered_at"]
        elif r.type == "BreachNotified":
            self.notified = True

    def to_json(self) -> str:
        return json.dumps({"discovered_at": self.discovered_at, "notified": self.notified},
                          sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, seq: int) -> BreachState:
        j = json.loads(text)
        return cls(discovered_at=j["discovered_at"], notified=bool(j["notified"]), seq=seq)
