"""Parsing an untrusted event: the envelope (``event_id``, ``type``, ``subject``,
``occurred_at``, ``actor``) and the ``data`` of its type, into a :class:`Draft`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.domain.event_fields import (
    _ACTOR,
    CLOCK_SKEW,
    MAX_SUBJECT,
    check_text,
    parse_fields,
    parse_rfc3339,
    parse_uuid,
    shown_key,
    stored_value,
)
from ledger.domain.event_registry import CATALOGUE
from ledger.errors import InputError
from ledger.trust.canonical import check_domain

if TYPE_CHECKING:
    from ledger.domain.event_registry import Event

__all__ = ["ENVELOPE", "Draft", "parse_unverified_event", "payload_of", "utcnow"]


@dataclass(frozen=True, slots=True)
class Draft:
    """A parsed, not yet recorded event; ``subject`` is the raw identifier."""

    event_id: str
    type: str
    subject: str | None
    occurred_at: datetime
    actor: str | None
    event: Event
    event_id_given: bool


ENVELOPE = frozenset({"event_id", "type", "subject", "occurred_at", "actor", "data"})


def parse_unverified_event(raw: object, *, now: datetime,
                           default_actor: str | None = None) -> Draft:
    """Check an untrusted JSON event; raise InputError naming the field and rule.

    ``now`` is the ledger's clock, passed in: ``occurred_at`` may not be more
    than five minutes after it.
    """
    if not isinstance(raw, dict):
        raise InputError("event", "must be a JSON object")
    for key in raw:
        if key not in ENVELOPE:
            raise InputError(shown_key(key), "is not an envelope field "
                             "(event_id, type, subject, occurred_at, actor, data)")
    type_ = raw.get("type")
    if not isinstance(type_, str) or type_ not in CATALOGUE:
        raise InputError("type", "must be one of the catalogue's types (docs/events.md)")
    cls = CATALOGUE[type_]
    event_id = raw.get("event_id")
    given = event_id is not None
    event_id = parse_uuid(event_id, "event_id") if given else str(uuid.uuid4())
    subject = raw.get("subject")
    if cls.SUBJECT == "required" and subject is None:
        raise InputError("subject", f"is required for {type_}")
    if cls.SUBJECT == "forbidden" and subject is not None:
        raise InputError("subject", f"must be absent for {type_} (an organisation event)")
    if subject is not None:
        check_text(subject, "subject", MAX_SUBJECT)
        if check_domain(subject):
            raise InputError("subject", "must be valid Unicode")
    if "occurred_at" not in raw:
        raise InputError("occurred_at", "is required")
    occurred_at = parse_rfc3339(raw["occurred_at"], "occurred_at")
    if occurred_at > now + CLOCK_SKEW:
        raise InputError("occurred_at", "must not be in the future (more than 5 minutes "
                                        "after the ledger's clock)")
    actor = raw.get("actor", default_actor)
    if actor is not None and (not isinstance(actor, str) or not _ACTOR.match(actor)):
        raise InputError("actor", "must be 1-128 characters [A-Za-z0-9._:@/-]")
    data = raw.get("data", {})
    if not isinstance(data, dict):
        raise InputError("data", "must be an object")
    fields = parse_fields(cls.specs(), data, "data")
    ev = cls(**fields)
    ev.check(occurred_at)
    return Draft(event_id, type_, subject, occurred_at, actor, ev, given)


def payload_of(ev: Event) -> dict[str, Any]:
    """The event's data in stored form before sealing: times formatted, absent dropped."""
    out: dict[str, Any] = {}
    for name, fs in ev.specs():
        value = getattr(ev, name)
        if value is None:
            continue
        out[name] = stored_value(fs, value)
    return out


def utcnow() -> datetime:
    return datetime.now(UTC)


# The catalogue's classes register themselves in CATALOGUE when their module is imported:
# importing it here makes this module usable alone (events imports this one first).
from ledger.domain import events as _catalogue  # noqa: E402, F401
