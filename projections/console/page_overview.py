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
from .i18n import LOCALES, N_, translations
from .integrity_facts import checkpoint_facts, verifications
from .overview_charts import RIGHTS
from .sessions import Session
from .web import Console

__all__ = ["register"]

Day = Annotated[str | None, Query()]  # checked here: a bad value gets the page, 422




REASONS = {"retention_period": N_("end of the retention period"),
           "consent_withdrawn": N_("withdrawal of consent"), "objection": N_("objection upheld"),
           "erasure_request": N_("erasure request granted")}
CHART_TITLES = {"choices": N_("Consent choices per purpose"),
                "requests": N_("Rights requests and the days they took"),
                "collections": N_("Collections per data category")}


def _day_bound(name: str, text: str | None, zone: Any) -> str | None:
    """A ``from``/``to`` day as the first/last microsecond of it in the policy's zone."""
    if text and len(text) != len("YYYY-MM-DD"):
        raise InputError(name, "must be a day YYYY-MM-DD")
    return parse_when(text or None, name, start_of_day=name == "from", zone=zone)


class _Asked:
    """The page's query, checked: ``at`` (UTC text) and the charts' days and bounds."""

    def __init__(self, console: Console, as_of: str | None, start: str | None,
                 end: str | None) -> None:
        self.errors: list[InputError] = []
        self.zone = console.zone
        self.as_of, self.start, self.end = as_of or "", start or "", end or ""
        self.at = format_time(datetime.now(UTC))
        bounds: dict[str, str | None] = {}
        for name, text in (("as_of", as_of), ("from", start), ("to", end)):
            try:
                bounds[name] = parse_when(text or None, name, zone=self.zone) \
                    if name == "as_of" else _day_bound(name, text, self.zone)
            except InputError as exc:
                self.errors.append(exc)
        self.at = bounds.get("as_of") or self.at
        lo, hi = bounds.get("from"), bounds.get("to")
        if lo and hi and lo > hi:
            self.errors.append(InputError("from", "must not be later than to"))

    def period(self, reader: Reader, newest: overview_data.NewestDay, head: int) \
            -> tuple[str, str]:
        """The charts' bounds (UTC texts): the days asked for; one of them alone: the
        30 days from or to it; neither: the 30 days ending at the newest event's day
        (today when there is none)."""
        span = timedelta(days=overview_data.PERIOD_DAYS - 1)
        if not self.start and not self.end:
            zone = reader.time_zone()
            last = newest.get(reader, zone, head) or datetime.now(UTC).date()
            self.end = last.isoformat()
        if not self.start:
            self.start = (date.fromisoformat(self.end) - span).isoformat()
        if not self.end:
            self.end = (date.fromisoformat(self.start) + span).isoformat()
        lo = _day_bound("from", self.start, self.zone)
        hi = _day_bound("to", self.end, self.zone)
        if lo is None or hi is None:  # pragma: no cover - both days are set above
            raise InputError("from", "must be a day YYYY-MM-DD")
        return lo, hi


def _registers(request: Request, console: Console) -> str:
    """The registers' pages (another module): linked by path."""
    return console.base(request) + "/registers"


def register(router: APIRouter, console: Console) -> None:
    console.add_nav("console-overview", N_("Overview"), "registers:read")
    ctx = console.ctx
    shared = console.shared
    newest = overview_data.NewestDay()

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
                                  integrity=None, **verifications(ctx).shown(),
                                  registers=_registers(request, console), rights=RIGHTS,
                                  reasons=REASONS)

        def read() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
            reader = shared.get()
            lo, hi = asked.period(reader, newest, ctx.ledger.head()[0])
            return (overview_data.needs(reader, asked.at),
                    overview_data.period(reader, lo, hi, asked.at),
                    checkpoint_facts(ctx.ledger))
        needs, data, integrity = await ctx.run(read)
        shown = [format_date(date.fromisoformat(d), "long", locale=LOCALES[lang])
                 for d in (asked.start, asked.end)]
        return console.render(request, "overview.html.j2", session, errors=[], asked=asked,
                              period_shown=shown, needs=needs, charts=_charts(data, lang),
                              integrity=integrity,
                              **verifications(ctx).shown(),
                              registers=_registers(request, console), rights=RIGHTS,
                              reasons=REASONS)

    _register_charts(router, console, newest)


def _charts(data: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Each chart's title, text alternative and data table (no drawing)."""
    _ = translations(lang).gettext
    locale = LOCALES[lang]
    return [{"name": name, "title": CHART_TITLES[name],
             "alt": overview_charts.alt(name, data, _,
                                        lambda n: format_decimal(n, locale=locale)),
             **overview_charts.table(name, data, _)}
            for name in overview_charts.CHARTS]


def _register_charts(router: APIRouter, console: Console,
                     newest: overview_data.NewestDay) -> None:
    ctx, shared = console.ctx, console.shared

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
            lo, hi = asked.period(reader, newest, ctx.ledger.head()[0])
            data = overview_data.period(reader, lo, hi, asked.at, parts=(chart,))
            return overview_charts.draw(chart, data, gettext)
        svg = await ctx.run(draw)
        return Response(svg, media_type="image/svg+xml")
