"""The overview: what needs the DPO now, the integrity status, and charts over a period.

``GET /console/overview`` (``registers:read``: the DPO) shows, as things stand at
``as_of`` (a day, its end in the policy's time zone; default now), the lists of
:mod:`overview_data` (retention items overdue and due, requests late and due this week,
breaches whose 72-hour clock runs, consents expiring), the last verification and the
latest checkpoint (:mod:`integrity_facts`; "Verify now" posts to the integrity page's
route), and three charts over ``from``..``to`` (days; default the 30 days ending at the
newest event's day), each an SVG image of its own route
(``GET /console/overview/charts/{name}.svg``) followed by its data table.

Bad input (a date that is not one, ``from`` after ``to``): the page again, status 422,
the message naming the field and the rule.  No personal value is shown: the registers'
rows are pseudonymous and the page shows no pseudonym either.
"""

# No `from __future__ import annotations`: FastAPI reads the route annotations at run time.

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ledger.errors import InputError
from ledger.trust.canonical import format_time

from ..queries import Reader, parse_when
from . import overview_charts, overview_data
from .overview_charts import RIGHTS
from .i18n import LOCALES, translations
from .integrity_facts import checkpoint_facts, verifications
from .sessions import Session
from .web import Console

__all__ = ["register"]

Day = Annotated[str | None, Query(max_length=40)]


def N_(s: str) -> str:
    return s


REASONS = {"retention_period": N_("end of the retention period"),
           "consent_withdrawn": N_("consent withdrawn"), "objection": N_("objection upheld"),
           "erasure_request": N_("erasure request granted")}
CHART_TITLES = {"choices": N_("Consent choices per purpose"),
                "requests": N_("Rights requests and the days they took"),
                "collections": N_("Collections per data category")}


def _day(d: date) -> str:
    return d.isoformat()


class _Asked:
    """The page's query, checked: ``at`` (UTC text) and the charts' days and bounds."""

    def __init__(self, console: Console, as_of: str | None, start: str | None,
                 end: str | None) -> None:
        self.errors: list[InputError] = []
        zone = console.zone
        self.as_of, self.start, self.end = as_of or "", start or "", end or ""
        self.at = format_time(datetime.now(UTC))
        try:
            self.at = parse_when(as_of or None, "as_of", zone=zone) or self.at
        except InputError as exc:
            self.errors.append(exc)
        self.lo = self.hi = None
        for name, text in (("from", start), ("to", end)):
            try:
                if text and len(text) != 10:
                    raise InputError(name, "must be a day YYYY-MM-DD")
                bound = parse_when(text or None, name, start_of_day=name == "from",
                                   zone=zone)
                if name == "from":
                    self.lo = bound
                else:
                    self.hi = bound
            except InputError as exc:
                self.errors.append(exc)
        if self.lo and self.hi and self.lo > self.hi:
            self.errors.append(InputError("from", "must not be later than to"))

    def default_period(self, reader: Reader, zone: str) -> None:
        """The 30 days ending at the newest event's day (today when there is none)."""
        if self.start and self.end:
            return
        newest = overview_data.newest_day(reader, zone) or datetime.now(UTC).date()
        last = date.fromisoformat(self.end) if self.end else newest
        first = date.fromisoformat(self.start) if self.start else \
            last - timedelta(days=overview_data.PERIOD_DAYS - 1)
        self.start, self.end = self.start or _day(first), self.end or _day(last)
        self.lo = parse_when(self.start, "from", start_of_day=True, zone=zone)
        self.hi = parse_when(self.end, "to", zone=zone)


def _registers(request: Request, console: Console) -> str:
    """The registers' pages (another module): linked by path."""
    return str(request.scope.get("root_path", "")) + console.prefix + "/registers"


def register(router: APIRouter, console: Console) -> None:
    console.add_nav("console-overview", N_("Overview"), "registers:read")
    ctx = console.ctx
    shared = console.shared

    @router.get("/overview", name="console-overview")
    async def overview(request: Request,
                       session: Annotated[Session, Depends(console.page("registers:read"))],
                       as_of: Day = None, start: Annotated[Day, Query(alias="from")] = None,
                       end: Annotated[Day, Query(alias="to")] = None) -> Response:
        asked = _Asked(console, as_of, start, end)
        lang = console.lang(request)
        if asked.errors:
            return console.render(request, "overview.html.j2", session, status=422,
                                  errors=asked.errors, asked=asked, needs=None, charts=[],
                                  integrity=None, last=verifications(ctx).last,
                                  registers=_registers(request, console), rights=RIGHTS,
                                  reasons=REASONS)

        def read() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
            reader = shared.get()
            asked.default_period(reader, reader.time_zone())
            assert asked.lo is not None and asked.hi is not None
            return (overview_data.needs(reader, asked.at),
                    overview_data.period(reader, asked.lo, asked.hi, asked.at),
                    checkpoint_facts(ctx.ledger))
        needs, data, integrity = await ctx.run(read)
        _ = translations(lang).gettext
        locale = LOCALES[lang]
        charts = [{"name": name, "title": CHART_TITLES[name],
                   "alt": overview_charts.alt(name, data, _,
                                              lambda n: format_decimal(n, locale=locale)),
                   **overview_charts.table(name, data, _)}
                  for name in overview_charts.CHARTS]
        shown = [format_date(date.fromisoformat(d), "long", locale=locale)
                 for d in (asked.start, asked.end)]
        return console.render(request, "overview.html.j2", session, errors=[], asked=asked,
                              period_shown=shown,
                              needs=needs, charts=charts, integrity=integrity,
                              last=verifications(ctx).last,
                              registers=_registers(request, console), rights=RIGHTS,
                              reasons=REASONS)

    @router.get("/overview/charts/{chart}.svg", name="console-overview-chart")
    async def chart_image(request: Request, chart: str,
                    _s: Annotated[Session, Depends(console.page("registers:read"))],
                    start: Annotated[Day, Query(alias="from")] = None,
                    end: Annotated[Day, Query(alias="to")] = None) -> Response:
        if chart not in overview_charts.CHARTS:
            return Response(status_code=404)
        asked = _Asked(console, None, start, end)
        if asked.errors:
            exc = asked.errors[0]
            return Response(f"{exc.field}: {exc.rule}\n", status_code=422,
                            media_type="text/plain; charset=utf-8")
        gettext = translations(console.lang(request)).gettext

        def draw() -> str:
            reader = shared.get()
            asked.default_period(reader, reader.time_zone())
            assert asked.lo is not None and asked.hi is not None
            data = overview_data.period(reader, asked.lo, asked.hi, asked.at)
            return overview_charts.draw(chart, data, gettext)
        svg = await ctx.run(draw)
        return Response(svg, media_type="image/svg+xml")
