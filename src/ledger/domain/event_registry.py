"""The base of the catalogue's event classes and the catalogue itself (type name to
class), filled by :mod:`ledger.domain.events` as its classes are defined.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from ledger.domain.event_fields import FieldSpec

__all__ = ["CATALOGUE", "Event", "event"]


class Event:
    """Base of the catalogue's event classes (each a frozen dataclass)."""

    TYPE: ClassVar[str]
    FAMILY: ClassVar[str]
    SUBJECT: ClassVar[str]  # "required", "optional" or "forbidden"
    DOC: ClassVar[str] = ""

    def check(self, occurred_at: datetime) -> None:
        """Rules that need this event alone; raise InputError(field, rule)."""

    @classmethod
    def specs(cls) -> tuple[tuple[str, FieldSpec], ...]:
        return _specs(cls)


_SPECS: dict[str, tuple[tuple[str, FieldSpec], ...]] = {}


def _specs(cls: type[Event]) -> tuple[tuple[str, FieldSpec], ...]:
    found = _SPECS.get(cls.TYPE)
    if found is None:
        found = _SPECS[cls.TYPE] = tuple(
            (f.name, f.metadata["spec"]) for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    return found


CATALOGUE: dict[str, type[Event]] = {}


def event(type_: str, family: str, subject: str, doc: str) -> Any:
    def register(cls: type[Event]) -> type[Event]:
        cls = dataclass(frozen=True, slots=True, kw_only=True)(cls)
        cls.TYPE, cls.FAMILY, cls.SUBJECT, cls.DOC = type_, family, subject, doc
        CATALOGUE[type_] = cls
        return cls
    return register
