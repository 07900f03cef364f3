"""The read side as plain functions returning JSON-ready dicts (CLI and HTTP API call these).

Each read brings the projections it uses up to date first (SQLite has no
notifications: reading is when we poll).  A :class:`Reader` holds the open
ledger store, the projector and, when needed, the master key (to turn a
subject's identifier into its pseudonym, and to decrypt for exports and
replays)::

    with Reader(url, "main") as r:
        r.consent("camille.durand@example.fr", as_of="2026-03-03T23:59:59Z")

Times given by callers are RFC 3339 with an offset, or a bare date
``YYYY-MM-DD`` meaning that day in the policy's time zone (its end, or its start for
the lower bound of a range; see :func:`parse_when`).
Every register takes ``as_of`` and ``known_at`` (one time model,
:mod:`projections.timeframe`); ``at`` is kept as the old name of ``as_of``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ledger.app.accesses import ACCESS, AccessBy, access_drafts, record_reads, subjects_shown
from ledger.app.application import Ledger
from ledger.app.checking import open_checked_store
from ledger.app.policies import load_policies
from ledger.domain.events import OUT_OF_RANGE, parse_rfc3339
from ledger.domain.periods import time_zone
from ledger.domain.policy_book import PolicyBook
from ledger.errors import InputError
from ledger.trust.canonical import format_time

from .accesses import access_register
from .breaches import breach_register
from .consent import consent_campaign, consent_state, notice_rows
from .disclosures import disclosure_register
from .mechanism import Projector
from .portability import export_subject
from .registry import all_projections
from .replay import replay
from .requests import request_list
from .retention import STATUSES, retention_items
from .ropa import ropa
from .timeframe import Timeframe

__all__ = ["Reader", "parse_when"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_PURPOSE = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")


def parse_when(text: str | None, field: str, *, start_of_day: bool = False,
               zone: str | Callable[[], str] | None = None) -> str | None:
    """A caller's time as the ledger's UTC text, or InputError naming ``field``.

    RFC 3339 with an offset is exact.  A bare date ``YYYY-MM-DD`` is a day of the people
    who give it: that day in ``zone`` (the policy's time zone; a callable is asked only
    when a bare date comes; None: UTC), meaning its last microsecond (an upper bound:
    as-of, known-at, to, due-before), or its first with ``start_of_day`` (a lower bound).
    """
    if text is None:
        return None
    if _DATE.match(text):
        try:
            day = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            raise InputError(field, "is not a valid calendar date") from None
        try:
            return format_time(day_bound(day, zone() if callable(zone) else zone,
                                         start=start_of_day))
        except OverflowError:
            raise InputError(field, OUT_OF_RANGE) from None  # as parse_rfc3339 says it
    return format_time(parse_rfc3339(text, field))


def day_bound(day: date, zone: str | None, *, start: bool) -> datetime:
    """The first (``start``) or last microsecond of the local ``day`` in ``zone`` (UTC when
    None), daylight saving time included (a day may last 23 or 25 hours)."""
    tz = time_zone(zone) if zone else UTC
    if start:
        return datetime.combine(day, time(), tz).astimezone(UTC)
    next_day = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    return next_day - timedelta(microseconds=1)


def now_text() -> str:
    return format_time(datetime.now(UTC))


class Reader:
    """One ledger's read side; close it (or use ``with``)."""

    def __init__(self, url: str, name: str = "main", env: Mapping[str, str] | None = None,
                 *, with_key: bool = False, store: Any = None) -> None:
        """``store``: where the ledger's entries are read (a replica's
        :class:`ledger.app.replicas.FollowingStore`); the projection rows stay at ``url``."""
        self.url, self.name, self.env = url, name, env
        self.ledger: Any = None
        if store is None and with_key:
            self.ledger = Ledger.open(url, name, env=env)
            store = self.ledger.store
        elif store is None:
            store, _ = open_checked_store(url, name)
        self._store = store
        try:
            self.projector = Projector(url, name, all_projections(), store=store)
        except BaseException:
            store.close()
            raise

    def close(self) -> None:
        self.projector.close()
        if self.ledger is not None and self.ledger.store is not self._store:
            self.ledger.close()
        self._store.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ledger_id(self) -> str:
        return self.projector.ledger_id

    def fresh(self, *names: str) -> None:
        self.projector.catch_up(names or None)

    def policies(self, known_at: str | None = None) -> PolicyBook:
        return load_policies(self._store, known_at=known_at)

    def time_zone(self) -> str:
        """The time zone of the policy in force now (else the latest): bare dates and
        people's times are read there."""
        return self.policies().time_zone(now_text())

    def pseudonym(self, subject: str) -> str:
        if subject.startswith("pseudonym:"):
            return subject[len("pseudonym:"):]
        return str(self.keyed().pseudonym(subject))

    def known(self, subject: str) -> bool:
        """Whether the ledger holds an entry about ``subject`` (identifier or
        ``pseudonym:<hex>``) other than a record of a read (``PersonalDataAccessed``)."""
        stream = self.pseudonym(subject)

        def first() -> bool:
            return any(row for row in self._store.entries(stream=stream, page=50)
                       if row.type != ACCESS)
        return bool(first())

    def keyed(self) -> Any:
        """The :class:`ledger.app.application.Ledger`, opened with the master key on first use."""
        if self.ledger is None:
            self.ledger = Ledger.open(self.url, self.name, env=self.env)
        return self.ledger

    def _read(self, fn: Callable[[Any], Any]) -> Any:
        with self.projector.sql_engine().connect() as conn:
            return fn(conn)

    # -- the reads ------------------------------------------------------------------
    def consent(self, subject: str, *, as_of: str | None = None,
                known_at: str | None = None, now: str | None = None) -> dict[str, Any]:
        pseudonym = self.pseudonym(subject)
        self.fresh("consent")
        policies = self.policies(known_at)
        doc = dict(self._read(lambda c: consent_state(
            c, self.ledger_id, pseudonym, policies, as_of=as_of, known_at=known_at,
            now=now or now_text())))
        return {**doc, "known": self.known(subject)}

    def consent_campaign(self, purpose: str, *, start: str | None = None,
                         end: str | None = None, known_at: str | None = None,
                         names: tuple[str, str, str] = ("purpose", "from", "to"),
                         ) -> dict[str, Any]:
        """Every choice made for ``purpose`` with ``occurred_at`` in [start, end];
        ``names``: how the caller calls purpose, from and to (in error messages)."""
        field = names[0]
        if not _PURPOSE.match(purpose):
            raise InputError(field, "must be a purpose id matching [a-z][a-z0-9_]*")
        if start is not None and end is not None and start > end:
            raise InputError(names[1], f"must not be later than {names[2]}")
        self.fresh("consent")
        policies = self.policies()  # a cited policy is always recorded before the choice
        if not any(p.purpose(purpose) for p in policies.in_order()):
            raise InputError(field, "is not a purpose of any published policy")
        return dict(self._read(lambda c: consent_campaign(
            c, self.ledger_id, purpose, policies, start=start, end=end, known_at=known_at)))

    def frame(self, *, as_of: str | None = None, known_at: str | None = None,
              at: str | None = None) -> Timeframe:
        """The time frame of a read (``at``: the old name of ``as_of``)."""
        return Timeframe.of(now=now_text(), as_of=as_of, known_at=known_at, at=at)

    def retention(self, *, as_of: str | None = None, known_at: str | None = None,
                  at: str | None = None, due_before: str | None = None,
                  status: str | None = None, subject: str | None = None) -> dict[str, Any]:
        if status is not None and status not in STATUSES:
            raise InputError("status", f"must be one of {', '.join(STATUSES)}")
        frame = self.frame(as_of=as_of, known_at=known_at, at=at)
        pseudonym = self.pseudonym(subject) if subject is not None else None
        self.fresh("retention")
        doc = dict(self._read(lambda c: retention_items(
            c, self.ledger_id, frame=frame, due_before=due_before, status=status,
            subject=pseudonym)))
        return doc if subject is None else {**doc, "known": self.known(subject)}

    def requests(self, *, as_of: str | None = None, known_at: str | None = None,
                 at: str | None = None, open_only: bool = False, overdue_only: bool = False,
                 subject: str | None = None) -> dict[str, Any]:
        frame = self.frame(as_of=as_of, known_at=known_at, at=at)
        pseudonym = self.pseudonym(subject) if subject is not None else None
        self.fresh("requests")
        return dict(self._read(lambda c: request_list(
            c, self.ledger_id, frame=frame, open_only=open_only,
            overdue_only=overdue_only, subject=pseudonym)))

    def breaches(self, *, as_of: str | None = None, known_at: str | None = None,
                 at: str | None = None) -> dict[str, Any]:
        frame = self.frame(as_of=as_of, known_at=known_at, at=at)
        self.fresh("breaches")
        return dict(self._read(lambda c: breach_register(c, self.ledger_id, frame=frame)))

    def disclosures(self, *, as_of: str | None = None, known_at: str | None = None,
                    at: str | None = None, subject: str | None = None) -> dict[str, Any]:
        frame = self.frame(as_of=as_of, known_at=known_at, at=at)
        pseudonym = self.pseudonym(subject) if subject is not None else None
        self.fresh("disclosures")
        doc = dict(self._read(lambda c: disclosure_register(
            c, self.ledger_id, frame=frame, subject=pseudonym)))
        return doc if subject is None else {**doc, "known": self.known(subject)}

    def ropa(self, *, as_of: str | None = None, known_at: str | None = None,
             at: str | None = None) -> dict[str, Any]:
        frame = self.frame(as_of=as_of, known_at=known_at, at=at)
        self.fresh("consent", "retention", "disclosures")
        policies = self.policies(frame.known_at)
        return dict(self._read(lambda c: ropa(c, self.ledger_id, policies, frame=frame)))

    def export(self, subject: str, *, as_of: str | None = None, known_at: str | None = None,
               at: str | None = None, now: str | None = None,
               by: AccessBy | None = None) -> dict[str, Any]:
        """The subject's export; with ``as_of``/``known_at``, of the events the frame admits.

        With ``by`` (the CLI and HTTP faces) the read is recorded first
        (ledger.app.accesses); without, the in-process caller is responsible for it."""
        frame = None
        if as_of is not None or known_at is not None or at is not None:
            frame = self.frame(as_of=as_of, known_at=known_at, at=at)
        doc = export_subject(self.keyed(), subject, generated_at=now or now_text(),
                             frame=frame)
        doc["known"] = self.known(subject)
        if by is not None:
            drafts = self.export_reads(doc, by)
            if drafts:
                self.keyed().append_drafts(drafts)
        return doc

    def export_reads(self, doc: dict[str, Any], by: AccessBy) -> list[Any]:
        """The PersonalDataAccessed draft of an export (none when the subject has no
        entry but read records); the HTTP route appends it through its group commit."""
        if not any(e["type"] != ACCESS for e in doc["events"]):
            return []
        return access_drafts(self.keyed(), by, "export", {doc["subject"]: []},
                             scope=f"seq 1..{doc['head']['seq']}")

    def replay(self, *, subject: str | None = None, start: str | None = None,
               end: str | None = None, types: Iterable[str] = (),
               by: AccessBy | None = None) -> dict[str, Any]:
        """The replay; with ``by`` each subject shown is recorded first (ledger.app.accesses)."""
        doc = replay(self.keyed(), subject=subject, start=start, end=end, types=list(types))
        if subject is not None:
            doc["known"] = self.known(subject)
        if by is not None:
            parts = [f"{k} {doc[k]}" for k in ("from", "to") if doc[k]]
            if doc["types"]:
                parts.append(f"types {','.join(doc['types'])}")
            record_reads(self.keyed(), by, "replay", subjects_shown(doc["entries"]),
                         scope="; ".join(parts) or None)
        return doc

    def accesses(self, **filters: Any) -> dict[str, Any]:
        """The register of recorded reads (projections.accesses)."""
        subject = filters.pop("subject", None)
        pseudonym = self.pseudonym(subject) if subject is not None else None
        self.fresh("accesses")
        return dict(self._read(lambda c: access_register(c, self.ledger_id,
                                                         subject=pseudonym, **filters)))

    def notices(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The published notices of these ids (text, digest, kind, language, seq, hash)."""
        wanted = set(ids)
        self.fresh("consent")
        return dict(self._read(lambda c: notice_rows(c, self.ledger_id, wanted)))

    def status(self) -> list[dict[str, Any]]:
        return list(self.projector.status())
