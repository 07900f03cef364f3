"""The read models over HTTP: routes registered through ``ledger.http_routes``.

``ledger serve`` loads this module by its entry point (``src/ledger`` never
imports ``projections``).  Every route brings its projection up to date first,
then answers what the matching ``ledger`` command prints with ``--json``:

    GET /v1/subjects/{ref}/consent?as_of=&known_at=   consent:read    (service, dpo)
    GET /v1/consents?purpose=&from=&to=&known_at=     registers:read  (dpo)
    GET /v1/subjects/{ref}/export?format=json|csv&as_of=&known_at=   subjects:export (dpo)
    GET /v1/retention?due_before=&status=&as_of=&known_at=   registers:read  (dpo)
    GET /v1/requests?open=&overdue=&as_of=&known_at=         registers:read  (dpo)
    GET /v1/breaches?as_of=&known_at=                        registers:read  (dpo)
    GET /v1/disclosures?as_of=&known_at=                     registers:read  (dpo)
    GET /v1/ropa?as_of=&known_at=                            registers:read  (dpo)

Every register takes ``as_of`` and ``known_at`` (projections.timeframe); ``at``
is the deprecated old name of ``as_of``.
    GET /v1/accesses?subject=&actor=&as_of=&known_at=&from=&to=   registers:read (dpo)
    POST /v1/inquiries   {from, to, purposes…}: the inquiry pack as a zip   subjects:export (dpo)

One :class:`~projections.queries.Reader` serves every request; it shares the
server's open ledger (and its master key) for pseudonyms and exports.
Invalid query values are answered 422 naming the parameter, like any
``InputError``.
"""

# No `from __future__ import annotations`: FastAPI reads the route annotations at run time.

import re
import threading
import weakref
from collections.abc import Callable
from typing import Annotated, Any, TypedDict, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import JSONResponse, Response

from ledger.app.accesses import check_text
from ledger.app.actors import token_reader
from ledger.app.tokens import Principal
from ledger.domain.events import MAX_SUBJECT
from ledger.errors import InputError
from ledger.http.params import ACTOR, TIME, subject_schema, text_schema
from ledger.http.problems import Problem
from ledger.http.schemas import json_response, problems

from .inquiry.http import register_inquiry
from .portability import export_zip
from .queries import Reader, parse_when
from .retention import STATUSES

__all__ = ["SharedReader", "per_server", "recorded_export", "register", "shared_reader"]

OBJECT: dict[str, Any] = {"type": "object"}
AUTH = (401, 403)
PURPOSE_ID = r"^[a-z][a-z0-9_]{0,63}$"
TIMES = ("`as_of`: as things stood at that time, from events that occurred by then "
         "(default now); `known_at`: only events recorded by then; both: what was known at "
         "`known_at` about `as_of`; `at`: deprecated old name of `as_of` (422 when both are "
         "given and differ: a rule between two parameters). Times: RFC 3339 "
         "or YYYY-MM-DD (that day in the policy's time zone: its start for a lower "
         "bound, its end otherwise).")
# the schemas say what the validators check (ledger.http.params), the validators answer:
# json_schema_extra documents a pattern without a second (framework) check of it
WHEN = {"pattern": TIME}
AsOf = Annotated[str | None, Query(description="as things stood then (events occurred by)",
                                   json_schema_extra=WHEN)]
KnownAt = Annotated[str | None, Query(description="only events recorded by then",
                                      json_schema_extra=WHEN)]
At = Annotated[str | None, Query(description="deprecated: the old name of as_of",
                                  deprecated=True, json_schema_extra=WHEN)]
Start = Annotated[str | None, Query(alias="from", json_schema_extra=WHEN)]
End = Annotated[str | None, Query(alias="to", json_schema_extra=WHEN)]
Ref = Annotated[str, Path(json_schema_extra=subject_schema())]
Subject = Annotated[str | None, Query(json_schema_extra=subject_schema())]


class Frame(TypedDict):
    """The time frame of a read (Reader's keyword arguments)."""

    as_of: str | None
    known_at: str | None


def _frame(as_of: str | None, known_at: str | None, at: str | None,
           zone: Callable[[], str]) -> Frame:
    when = parse_when(as_of, "as_of", zone=zone)
    old = parse_when(at, "at", zone=zone)
    if old is not None and when is not None and old != when:
        raise InputError("at", "is the old name of as_of: give one of them")
    return {"as_of": when or old, "known_at": parse_when(known_at, "known_at", zone=zone)}


class _SharedReader:
    """One Reader for the server, opened on first use (thread-safe)."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self._reader: Reader | None = None
        self._lock = threading.Lock()

    def get(self) -> Reader:
        with self._lock:
            if self._reader is None:
                replicas = getattr(self.ctx, "replicas", None)  # read_urls: entries from
                store = None if replicas is None else replicas.following_store()  # a replica
                reader = Reader(self.ctx.url, self.ctx.name, store=store)
                reader.ledger = self.ctx.ledger  # the server's keys: pseudonyms, exports
                self._reader = reader
            return self._reader

    def close(self) -> None:
        """Release the reader's connections (the server's ledger stays the server's)."""
        with self._lock:
            reader, self._reader = self._reader, None
        if reader is not None:
            reader.ledger = None
            reader.close()

    def zone(self) -> str:
        """The policy's time zone: a bare date over HTTP is a day there."""
        return self.get().time_zone()

    def progress(self) -> dict[str, int]:
        """The last seq each projection has processed (0 for one whose code changed: the
        next catch-up rebuilds it); for /v1/ready and the metrics (``ctx.add_lag_source``)."""
        return {row["projection"]: 0 if row["stale"] else int(row["position"])
                for row in self.get().status()}

    def catch_up(self) -> None:
        """Bring every projection up to the head (what /v1/ready starts when behind)."""
        self.get().fresh()


REASON_HEADER = "Ledger-Access-Reason"
Reason = Annotated[str | None, Header(alias=REASON_HEADER, json_schema_extra=text_schema(
    description="why the personal data is read (recorded); required when the server's "
                "LEDGER_REQUIRE_REASON is set"))]


def check_subject(ref: str | None, field: str = "subject") -> None:
    """A subject reference follows the rules of a subject's identifier (its schema)."""
    if ref is not None:
        check_text(ref, field, MAX_SUBJECT)


def answers(what: str) -> dict[int | str, dict[str, Any]]:
    """The responses of a JSON read route (OpenAPI)."""
    return {200: json_response(what, OBJECT), **problems(*AUTH, 422, 503)}


_PER_SERVER: "weakref.WeakKeyDictionary[Any, dict[str, Any]]" = weakref.WeakKeyDictionary()
_PER_SERVER_LOCK = threading.Lock()
T = TypeVar("T")


def per_server(ctx: Any, key: str, make: Callable[[], T]) -> T:
    """The one ``key`` object of a server (``ctx``), made on first use: what its routes
    and its console share (a reader, the last verdicts); gone with the server."""
    with _PER_SERVER_LOCK:
        kept = _PER_SERVER.setdefault(ctx, {})
        if key not in kept:
            kept[key] = make()
        found: T = kept[key]
        return found


def shared_reader(ctx: Any) -> _SharedReader:
    """The one Reader of a server (``ctx``), shared by the routes and the console."""
    def make() -> _SharedReader:
        shared = _SharedReader(ctx)
        ctx.on_close(shared.close)
        return shared

    return per_server(ctx, "reader", make)


def register(router: APIRouter, ctx: Any) -> None:
    """Add the read-model routes (``ledger.http_routes`` entry point), in this order."""
    shared = shared_reader(ctx)
    ctx.add_lag_source(shared.progress, shared.catch_up)  # /v1/ready, the metrics: their lag
    register_accesses(router, ctx, shared)
    _register_consent(router, ctx, shared)
    _register_export(router, ctx, shared)
    _register_deadlines(router, ctx, shared)
    _register_registers(router, ctx, shared)
    register_inquiry(router, ctx, shared)  # POST /v1/inquiries (projections/inquiry)


def _register_consent(router: APIRouter, ctx: Any, shared: _SharedReader) -> None:
    """GET /v1/subjects/{ref}/consent (one subject) and /v1/consents (a campaign)."""

    @router.get("/subjects/{ref:path}/consent",
                summary="A subject's consent per purpose (ledger consent --json)",
                description="`ref` is the subject's identifier (URL-encoded) or "
                "`pseudonym:<hex>`. `as_of` answers with events that occurred by then, "
                "`known_at` with events recorded by then; both: what was known at "
                "`known_at` about the state at `as_of`. Times: RFC 3339 or YYYY-MM-DD "
                "(end of that day in the policy's time zone).",
                responses={**answers("the consent state and its history"),
                           **problems(404)})  # a `ref` with a line break matches no route
    async def consent(ref: Ref,
                      _: Annotated[Principal, Depends(ctx.require("consent:read"))],
                      as_of: AsOf = None, known_at: KnownAt = None) -> JSONResponse:
        check_subject(ref)
        when = parse_when(as_of, "as_of", zone=shared.zone)
        known = parse_when(known_at, "known_at", zone=shared.zone)
        doc = await ctx.run(lambda: shared.get().consent(ref, as_of=when, known_at=known))
        return JSONResponse(doc)

    @router.get("/consents", summary="Every consent choice for a purpose in a time range "
                "(ledger consent --purpose P --from T --to T --json)",
                description="A campaign: every ConsentGiven, ConsentRefused and "
                "ConsentWithdrawn for `purpose` whose `occurred_at` lies in [`from`, `to`] "
                "(a bare `from` date: the start of that day, a bare `to` date: its end, "
                "in the policy's time zone), "
                "recorded by `known_at` if given; counts per choice and the rows "
                "(pseudonymous subject, time, method, notice, seq, hash; no decrypted value). "
                "404 when `purpose` is no purpose of a published policy; 422 when `from` "
                "is later than `to` (a rule between two parameters).",
                responses={**answers("the choices and their counts"), **problems(404)})
    async def consents(_: Annotated[Principal, Depends(ctx.require("registers:read"))],
                       purpose: Annotated[str, Query(pattern=PURPOSE_ID)],
                       start: Start = None, end: End = None, known_at: KnownAt = None,
                       ) -> JSONResponse:
        lo = parse_when(start, "from", start_of_day=True, zone=shared.zone)
        hi = parse_when(end, "to", zone=shared.zone)
        known = parse_when(known_at, "known_at", zone=shared.zone)
        try:
            doc = await ctx.run(lambda: shared.get().consent_campaign(
                purpose, start=lo, end=hi, known_at=known))
        except InputError as exc:
            if exc.field == "purpose":  # the pattern is checked above: not published
                raise Problem(404, f"purpose: {exc.rule}", field="purpose",
                              rule=exc.rule) from None
            raise
        return JSONResponse(doc)


def _register_export(router: APIRouter, ctx: Any, shared: _SharedReader) -> None:
    """GET /v1/subjects/{ref}/export: the read is recorded before the export is sent."""

    @router.get("/subjects/{ref:path}/export",
                summary="A subject's data export, decrypted (Art. 15, 20)",
                description="JSON (schema `ledger-export/1`, docs/PROJECTIONS.md) or, with "
                "`format=csv`, a zip of one CSV file per table. Each item cites its `seq` "
                "and `hash`. An erased subject's export says so and holds no personal value. "
                + TIMES + " The read is recorded first (`PersonalDataAccessed`: the token's "
                "name, the "
                f"`{REASON_HEADER}` header as reason; docs/API.md).",
                responses={200: {"description": "the export", "content": {
                    "application/json": {"schema": OBJECT},
                    "application/zip": {"schema": {"type": "string",
                                                   "format": "binary"}}}},
                           **problems(*AUTH, 404, 422, 503)})
    async def export(ref: Ref,  # noqa: PLR0917 - FastAPI passes query parameters by name
                     who: Annotated[Principal, Depends(ctx.require("subjects:export"))],
                     format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",  # noqa: A002
                     as_of: AsOf = None, known_at: KnownAt = None, at: At = None,
                     reason: Reason = None) -> Response:
        check_subject(ref)
        when = _frame(as_of, known_at, at, shared.zone)
        by = token_reader(who.name, reason, REASON_HEADER, ctx.ledger.env)
        try:
            doc = await recorded_export(ctx, shared, ref, by, **when)
        except InputError as exc:  # the policy requires a reason: the header is named
            if exc.field == "data.reason" and reason is None:
                raise InputError(REASON_HEADER, exc.rule) from None
            raise
        if format == "csv":
            return Response(export_zip(doc), media_type="application/zip", headers={
                "Content-Disposition": 'attachment; filename="export.zip"'})
        return JSONResponse(doc)


async def recorded_export(ctx: Any, shared: _SharedReader, ref: str, by: Any,
                          **when: Any) -> dict[str, Any]:
    """A subject's export (decrypted), its reads recorded before it is shown: through the
    group commit, not from a worker thread (a read holding a thread must not wait for an
    append that needs one).  The API's export route and the console's person page."""
    reader = shared.get()
    doc: dict[str, Any] = await ctx.run(lambda: reader.export(ref, **when))
    drafts = reader.export_reads(doc, by)
    if drafts:
        await ctx.append(drafts)
    return doc


def _register_deadlines(router: APIRouter, ctx: Any, shared: _SharedReader) -> None:
    """GET /v1/retention and /v1/requests: what is due when."""

    @router.get("/retention", summary="Collected items and their retention deadlines",
                description="`status`: active, due, overdue, held, erased or anonymised; "
                "`due_before`: RFC 3339 or YYYY-MM-DD. " + TIMES,
                responses=answers("the retention register"))
    async def retention(_: Annotated[Principal, Depends(ctx.require("registers:read"))],
                        due_before: Annotated[str | None, Query(json_schema_extra=WHEN)] = None,
                        status: Annotated[str | None, Query(json_schema_extra={
                            "enum": list(STATUSES)})] = None,
                        as_of: AsOf = None, known_at: KnownAt = None,
                        at: At = None) -> JSONResponse:
        before = parse_when(due_before, "due_before", zone=shared.zone)
        when = _frame(as_of, known_at, at, shared.zone)
        doc = await ctx.run(lambda: shared.get().retention(**when, due_before=before,
                                                           status=status))
        return JSONResponse(doc)

    @router.get("/requests", summary="Rights requests, due dates and overdue ones",
                description=TIMES, responses=answers("the rights requests"))
    async def requests(_: Annotated[Principal, Depends(ctx.require("registers:read"))],
                       open: Annotated[bool, Query()] = False,  # noqa: A002
                       overdue: Annotated[bool, Query()] = False,
                       as_of: AsOf = None, known_at: KnownAt = None,
                       at: At = None) -> JSONResponse:
        when = _frame(as_of, known_at, at, shared.zone)
        doc = await ctx.run(lambda: shared.get().requests(**when, open_only=open,
                                                          overdue_only=overdue))
        return JSONResponse(doc)


def _register_registers(router: APIRouter, ctx: Any, shared: _SharedReader) -> None:
    """GET /v1/breaches, /v1/disclosures and /v1/ropa (Art. 33(5), 30)."""

    @router.get("/breaches", summary="The breach register (Art. 33(5))",
                description=TIMES, responses=answers("the breach register"))
    async def breaches(_: Annotated[Principal, Depends(ctx.require("registers:read"))],
                       as_of: AsOf = None, known_at: KnownAt = None,
                       at: At = None) -> JSONResponse:
        when = _frame(as_of, known_at, at, shared.zone)
        return JSONResponse(await ctx.run(lambda: shared.get().breaches(**when)))

    @router.get("/disclosures", summary="The disclosures register (recipients, transfers)",
                description=TIMES, responses=answers("the disclosures register"))
    async def disclosures(_: Annotated[Principal, Depends(ctx.require("registers:read"))],
                          as_of: AsOf = None, known_at: KnownAt = None,
                          at: At = None) -> JSONResponse:
        when = _frame(as_of, known_at, at, shared.zone)
        return JSONResponse(await ctx.run(lambda: shared.get().disclosures(**when)))

    @router.get("/ropa", summary="The record of processing activities (Art. 30(1))",
                description=TIMES + " 404 when no policy was in force at `as_of`.",
                responses={**answers("the record of processing activities"),
                           **problems(404)})
    async def ropa(_: Annotated[Principal, Depends(ctx.require("registers:read"))],
                   as_of: AsOf = None, known_at: KnownAt = None,
                   at: At = None) -> JSONResponse:
        when = _frame(as_of, known_at, at, shared.zone)
        try:
            return JSONResponse(await ctx.run(lambda: shared.get().ropa(**when)))
        except InputError as exc:
            if exc.field == "--as-of":  # projections.ropa: before the first policy
                raise Problem(404, f"as_of: {exc.rule}", field="as_of",
                              rule=exc.rule) from None
            raise


def register_accesses(router: APIRouter, ctx: Any, shared: _SharedReader) -> None:
    """GET /v1/accesses: the register of reads of personal data (ledger accesses --json)."""

    @router.get("/accesses", summary="Who was shown whose personal data (ledger accesses)",
                description="One row per `PersonalDataAccessed`. `subject`: identifier or "
                "`pseudonym:<hex>`; `actor`; `as_of` (occurred by), `known_at` (recorded "
                "by), `from`/`to` (occurred in the range): RFC 3339 or YYYY-MM-DD.",
                responses={200: json_response("the register of reads", OBJECT),
                           **problems(*AUTH, 422, 503)})
    async def accesses(_: Annotated[Principal, Depends(ctx.require("registers:read"))], *,
                       subject: Subject = None,
                       actor: Annotated[str | None, Query(json_schema_extra={
                           "pattern": ACTOR})] = None,
                       as_of: AsOf = None, known_at: KnownAt = None,
                       start: Start = None, end: End = None) -> JSONResponse:
        check_subject(subject)
        if actor is not None and not re.fullmatch(ACTOR.strip("^$"), actor):
            raise InputError("actor", "must be 1-128 characters [A-Za-z0-9._:@/-]")
        filters = {"actor": actor, "as_of": parse_when(as_of, "as_of", zone=shared.zone),
                   "known_at": parse_when(known_at, "known_at", zone=shared.zone),
                   "start": parse_when(start, "from", start_of_day=True, zone=shared.zone),
                   "end": parse_when(end, "to", zone=shared.zone)}
        doc = await ctx.run(lambda: shared.get().accesses(subject=subject, **filters))
        return JSONResponse(doc)


SharedReader = _SharedReader  # the name the console types with
