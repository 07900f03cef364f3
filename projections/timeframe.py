"""The one time model of every read model: ``as_of`` (valid time) and ``known_at`` (recording time).

Every register answers a question about a moment, from the events allowed by it:

* ``as_of=T``: events whose ``occurred_at`` ≤ T (what had happened by T);
* ``known_at=K``: events whose ``recorded_at`` ≤ K (what the ledger knew at K);
* both: what the ledger knew at K about the state at T.

Statuses (due, overdue, open, late, pending, held, erased…) are computed at
:attr:`Timeframe.at`, the moment asked about: ``as_of``, else ``known_at``,
else now, and only from the events the frame admits.  So an answer about T
never changes when events occurring after T are appended, and an answer known
at K never changes when events are recorded after K.

Times are the ledger's UTC text (``YYYY-MM-DDTHH:MM:SS.ffffffZ``), which sorts
as it compares.  A bare date a person gives (``--as-of 2027-04-04``) is turned into
such a time before it gets here, as the end (or, for a lower bound, the start) of
that day in the policy's time zone (:func:`projections.queries.parse_when`).
``at`` is the old name of ``as_of`` (``--at`` on the command
line, ``at`` over HTTP): it is kept as an alias.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, true

from ledger.errors import InputError

__all__ = ["Timeframe"]


@dataclass(frozen=True, slots=True)
class Timeframe:
    """The moment asked about and which events may answer; build with :meth:`of`."""

    at: str                 # statuses are computed at this moment
    as_of: str | None       # events that occurred by then (None: by ``at``)
    known_at: str | None    # events recorded by then (None: every recorded event)

    @classmethod
    def of(cls, *, now: str, as_of: str | None = None, known_at: str | None = None,
           at: str | None = None, alias: str = "--at", name: str = "--as-of") -> Timeframe:
        """The frame for these (already parsed) times; ``at`` is the alias of ``as_of``."""
        if at is not None:
            if as_of is not None and as_of != at:
                raise InputError(alias, f"is the old name of {name}: give one of them")
            as_of = at
        return cls(at=as_of or known_at or now, as_of=as_of, known_at=known_at)

    def admits(self, occurred_at: str | None, recorded_at: str | None) -> bool:
        """Whether an event (or a transition) with these times is part of the answer."""
        if occurred_at is None or occurred_at > self.at:
            return False
        return self.known_at is None or (recorded_at is not None
                                          and recorded_at <= self.known_at)

    def where(self, occurred: Any, recorded: Any) -> ColumnElement[bool]:
        """:meth:`admits` as an SQL condition on two columns."""
        cond = occurred <= self.at
        if self.known_at is None:
            return and_(true(), cond)
        return and_(cond, recorded <= self.known_at)

    def to_json(self) -> dict[str, str | None]:
        return {"at": self.at, "as_of": self.as_of, "known_at": self.known_at}
