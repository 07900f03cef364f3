"""An erasure asked for over HTTP: the ``SubjectErased`` event built from the request's
fields, parsed (not yet appended: the API appends through its group commit).

The request's optional fields are those of :data:`ERASURE_FIELDS`; a field given as
``null`` is kept as given (the event's rules then name it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger.trust.canonical import format_time

if TYPE_CHECKING:
    from ledger.app.application import Ledger
    from ledger.domain.events import Draft

__all__ = ["DEFAULT_GROUND", "ERASURE_FIELDS", "erasure_drafts", "erasure_event"]

DEFAULT_GROUND = "no_longer_necessary"
ERASURE_FIELDS = ("ground", "request_id", "event_id", "occurred_at")


def erasure_event(subject_ref: str, given: Mapping[str, Any], now: datetime) \
        -> dict[str, Any]:
    """The raw ``SubjectErased`` event for ``subject_ref``: ``ground`` (default
    :data:`DEFAULT_GROUND`), ``request_id`` and ``event_id`` when given, ``occurred_at``
    given or ``now``."""
    data: dict[str, Any] = {"ground": given.get("ground", DEFAULT_GROUND)}
    if "request_id" in given:
        data["request_id"] = given["request_id"]
    raw: dict[str, Any] = {"type": "SubjectErased", "subject": subject_ref, "data": data,
                           "occurred_at": given.get("occurred_at", format_time(now))}
    if "event_id" in given:
        raw["event_id"] = given["event_id"]
    return raw


def erasure_drafts(ledger: Ledger, subject_ref: str, given: Mapping[str, Any], *,
                   actor: str) -> list[Draft]:
    """The erasure parsed and checked alone (InputError naming the field), ``actor``
    recorded as who erases; appended by the caller."""
    return ledger.parse([erasure_event(subject_ref, given, ledger.clock())],
                        default_actor=actor)
