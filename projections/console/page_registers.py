"""The registers (issue 12): retention, rights requests, breaches, disclosures, reads of
personal data and the Art. 30 record, each a page with its filters and downloads.

``GET /console/registers/{kind}`` (permission ``registers:read``: the DPO) answers the
register the API's ``GET /v1/{name}`` answers for the same filters (the same Reader,
the same time frame: ``as_of``, ``known_at``); ``format=csv|xlsx|json`` downloads the
rows shown (CSV and XLSX: :mod:`.page_registers_tables`; JSON: the API's document).
The filters travel in the URL (GET forms): none of them is personal — the reads
register's subject filter takes a pseudonym only; an identifier is typed in a POST form
(``POST /console/registers/accesses/subject``) that answers a redirect to the pseudonym.
A bad value re-renders the page with 422 and a message naming the field and the rule.
"""

# No `from __future__ import annotations`: FastAPI reads the route annotations at run time.

import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from ledger.app.accesses import check_text
from ledger.domain.events import MAX_SUBJECT
from ledger.errors import InputError
from ledger.http.params import ACTOR

from ..inquiry.render import show_time
from ..queries import Reader, parse_when
from ..retention import STATUSES
from .i18n import N_
from .page_registers_tables import (
    COLUMNS,
    REGISTERS,
    ROWS,
    VALUES,
    csv_file,
    duration,
    ropa_rows,
    xlsx_file,
)
from .sessions import Session
from .web import Console, Form

__all__ = ["FIELDS", "LABELS", "RULES", "register"]




FRAME = ("as_of", "known_at")
# each register's filters (the names of the API's query parameters), then the frame's
FIELDS: dict[str, tuple[str, ...]] = {
    "retention": ("status", "due_before", *FRAME),
    "requests": ("open", "overdue", *FRAME),
    "breaches": FRAME, "disclosures": FRAME, "ropa": FRAME,
    "accesses": ("pseudonym", "actor", "from", "to", *FRAME),
}
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "json": "application/json"}
PSEUDONYM = re.compile(r"[0-9a-f]{64}\Z")
_ACTOR = re.compile(ACTOR.strip("^$") + r"\Z")

# rules the pages state themselves, translated (a rule from elsewhere is shown as it is)
RULES = (N_("is not a valid calendar date"),
         N_("must be a pseudonym: 64 lowercase hexadecimal characters"),
         N_("must be 1-128 characters [A-Za-z0-9._:@/-]"),
         N_("must be one of csv, xlsx, json"),
         N_("must not be later than to"), N_("must not be empty"),
         N_("must be true or false"),
         N_("must be an RFC 3339 date-time with an offset, e.g. 2024-03-01T09:30:00+01:00"),
         N_("must lie within the years 0001-9999 once converted to UTC"))


# the fields' labels, as the forms show them (an error names the field by its label)
LABELS = {"as_of": N_("As of"), "known_at": N_("Known at"), "status": N_("Retention status"),
          "due_before": N_("Deadline before"), "pseudonym": N_("Subject's pseudonym"),
          "actor": N_("Read by (token or user)"), "from": N_("Read from"),
          "to": N_("Read until"), "format": N_("Download format"),
          "open": N_("Open requests only"), "overdue": N_("Overdue requests only"),
          "subject": N_("Identifier (e-mail address, customer number…)")}


def _when(values: dict[str, str], name: str, zone: Callable[[], str], *,
          start: bool = False) -> str | None:
    return parse_when(values.get(name) or None, name, start_of_day=start, zone=zone)


def parse(name: str, values: dict[str, str], zone: Callable[[], str]) -> dict[str, Any]:
    """The Reader's arguments from the form's values (InputError naming the field)."""
    frame = {"as_of": _when(values, "as_of", zone), "known_at": _when(values, "known_at", zone)}
    if name == "retention":
        status = values.get("status") or None
        if status is not None and status not in STATUSES:
            raise InputError("status", f"must be one of {', '.join(STATUSES)}")
        return {**frame, "status": status, "due_before": _when(values, "due_before", zone)}
    if name == "requests":
        return {**frame, "open_only": _flag(values, "open"),
                "overdue_only": _flag(values, "overdue")}
    if name == "accesses":
        return {**frame, **_access_filters(values, zone)}
    return frame


def _flag(values: dict[str, str], name: str) -> bool:
    """A checkbox (``true``), or the API's booleans typed in the URL."""
    value = (values.get(name) or "").lower()
    if value not in {"", "true", "false", "1", "0", "on", "off", "yes", "no"}:
        raise InputError(name, "must be true or false")
    return value in {"true", "1", "on", "yes"}


def _access_filters(values: dict[str, str], zone: Callable[[], str]) -> dict[str, Any]:
    pseudonym, actor = values.get("pseudonym") or None, values.get("actor") or None
    if pseudonym is not None and not PSEUDONYM.match(pseudonym):
        raise InputError("pseudonym", "must be a pseudonym: 64 lowercase hexadecimal "
                         "characters")
    if actor is not None and not _ACTOR.match(actor):
        raise InputError("actor", "must be 1-128 characters [A-Za-z0-9._:@/-]")
    start, end = _when(values, "from", zone, start=True), _when(values, "to", zone)
    if start is not None and end is not None and start > end:
        raise InputError("from", "must not be later than to")
    return {"subject": None if pseudonym is None else f"pseudonym:{pseudonym}",
            "actor": actor, "start": start, "end": end}


def read(reader: Reader, name: str, filters: dict[str, Any]) -> dict[str, Any]:
    """The register's document, as the API's route reads it."""
    if name == "ropa":
        try:
            return reader.ropa(**filters)
        except InputError as exc:  # before the first policy: the field is as_of here
            if exc.field == "--as-of":
                raise InputError("as_of", exc.rule) from None
            raise
    method: Callable[..., dict[str, Any]] = getattr(reader, name)
    return method(**filters)


#: rows in one page of a register's table (the downloads hold every row): a register of
#: 36,480 rows was a 24.7 MB page taking 6.3 s (PERFORMANCE.md, "The DPO's console")
PAGE_ROWS = 200


def rows_of(name: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
    return ropa_rows(doc) if name == "ropa" else list(doc[ROWS[name]])


def _query(values: dict[str, str], **more: str) -> str:
    return urlencode({k: v for k, v in {**values, **more}.items() if v})


def register(router: APIRouter, console: Console) -> None:
    console.add_nav("console-registers", N_("Registers"), "registers:read")
    page = console.page("registers:read")

    # the first tab is the nav's target; both routes bear the name: url() with no
    # parameter gives the first, with name=… the second (and the nav marks either)
    @router.get("/registers/retention", name="console-registers")
    async def first(request: Request,
                    session: Annotated[Session, Depends(page)]) -> Response:
        return await show(console, request, session, "retention")

    @router.get("/registers/{kind}", name="console-registers")
    async def register_page(kind: str, request: Request,
                            session: Annotated[Session, Depends(page)]) -> Response:
        if kind not in REGISTERS:
            raise HTTPException(404)
        return await show(console, request, session, kind)

    @router.post("/registers/accesses/subject", name="console-registers-subject")
    async def by_identifier(request: Request, form: Annotated[Form, Depends(
            console.form("registers:read"))]) -> Response:
        """An identifier, typed: its pseudonym goes in the URL, the identifier nowhere."""
        values = {k: form.get(k) or "" for k in FIELDS["accesses"] if k != "pseudonym"}
        subject = (form.get("subject") or "").strip()
        try:
            check_text(subject, "subject", MAX_SUBJECT)
            parse("accesses", values, console.zone)
        except InputError as exc:
            return _page(console, request, form.session, "accesses",
                         {**values, "pseudonym": ""}, error=exc)
        hexa = await console.ctx.run(lambda: console.shared.get().pseudonym(subject))
        target = console.path(request, "console-registers", kind="accesses")
        return RedirectResponse(target + "?" + _query(values, pseudonym=hexa), status_code=303)


def _check_format(fmt: str | None) -> None:
    if fmt is not None and fmt not in FORMATS:
        raise InputError("format", "must be one of csv, xlsx, json")


async def show(console: Console, request: Request, session: Session, name: str) -> Response:
    params = request.query_params
    values = {k: params.get(k, "").strip() for k in FIELDS[name]}
    fmt = params.get("format") or None
    try:
        _check_format(fmt)
        filters = parse(name, values, console.zone)
        doc = await console.ctx.run(lambda: read(console.shared.get(), name, filters))
    except InputError as exc:
        return _page(console, request, session, name, values, error=exc)
    if fmt is not None:
        return _download(console, request, name, doc, fmt)
    return _page(console, request, session, name, values, doc=doc)


def _download(console: Console, request: Request, name: str, doc: dict[str, Any],
              fmt: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "json":
        return JSONResponse(doc, headers=headers)
    lang, zone = console.lang(request), console.zone()
    rows = rows_of(name, doc)

    def when(t: str) -> str:
        return show_time(t, zone, lang)
    data = csv_file(rows, when, lang) if fmt == "csv" else xlsx_file(name, rows, when, lang)
    return Response(data, media_type=FORMATS[fmt], headers=headers)


def paging(request: Request, total: int) -> tuple[int, int]:
    """The page asked for (``?page=N``, from 1) and the number of pages of ``total`` rows."""
    pages = max(1, -(-total // PAGE_ROWS))
    raw = request.query_params.get("page", "1").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= pages:
        raise InputError("page", f"must be a whole number from 1 to {pages}")
    return int(raw), pages


def _page(console: Console, request: Request, session: Session, name: str,
          values: dict[str, str], *, doc: dict[str, Any] | None = None,
          error: InputError | None = None) -> Response:
    path = console.path(request, "console-registers", kind=name)
    downloads = {fmt: f"{path}?{_query(values, format=fmt)}" for fmt in FORMATS}
    rows = [] if doc is None else rows_of(name, doc)
    number, pages = 1, 1
    if error is None and name != "ropa":
        try:
            number, pages = paging(request, len(rows))
        except InputError as exc:
            error = exc
    first = (number - 1) * PAGE_ROWS
    links = {n: f"{path}?{_query(values, page=str(n))}" for n in (number - 1, number + 1)
             if 1 <= n <= pages}
    return console.render(
        request, "registers.html.j2", session, status=200 if error is None else 422,
        name=name, registers=REGISTERS, columns=COLUMNS.get(name, ()), values=values,
        doc=doc, rows=rows if name == "ropa" else rows[first:first + PAGE_ROWS],
        total=len(rows), first=first, page=number, pages=pages, links=links, error=error,
        downloads=downloads, codes=VALUES, statuses=STATUSES, labels=LABELS,
        duration=duration,
        person=console.ctx.permissions.allows(session.role, "subjects:export"))
