"""The console's overview (issue 12), server-side, on both databases, with the demo's day
and a few more events (two open requests, two breaches not notified): the lists, the
counts and the charts' tables are the registers' own answers (the projections' Reader,
asked the same question), the charts are SVG images, bad dates are refused naming the
field, and the auditor may not see the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.numbers import format_decimal

from ledger.app.application import Ledger
from ledger.trust.canonical import format_time, parse_time
from projections.queries import Reader, parse_when
from tests.console_kit import Web, console_app
from tests.inquiry_kit import CANDIDATE, fill

ZONE = "Europe/Paris"
AS_OF = "2026-04-12"                      # the day the overview is asked about
PERIOD = ("2026-03-01", "2026-04-12")     # the charts' period asked for
PERSONAL = (CANDIDATE, "sophie.bernard@example.fr", "Sophie", "Bernard", "Camille",
            "Durand", "julien.moreau@example.com")


def more_events(ledger: Ledger) -> None:
    """Two open requests (one late at AS_OF, one due within the week), two breaches not
    notified (one past its 72 hours at AS_OF, one with its clock running)."""
    ledger.clock.now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    ledger.append([
        {"type": "RightsRequestReceived", "subject": "sophie.bernard@example.fr",
         "occurred_at": "2026-03-09T10:00:00+01:00",
         "data": {"request_id": "DPO-2026-0040", "right": "rectification",
                  "channel": "email", "details": "Sophie Bernard: new address"}},
        {"type": "RightsRequestReceived", "subject": "julien.moreau@example.com",
         "occurred_at": "2026-03-17T10:00:00+01:00",
         "data": {"request_id": "DPO-2026-0041", "right": "access", "channel": "form"}},
        {"type": "BreachDetected", "occurred_at": "2026-04-08T09:00:00+02:00",
         "data": {"breach_id": "BRK-2026-0408-01", "nature": ["confidentiality"],
                  "risk": "risk", "description": "A laptop was stolen."}},
        {"type": "BreachDetected", "occurred_at": "2026-04-12T08:00:00+02:00",
         "data": {"breach_id": "BRK-2026-0412-01", "nature": ["integrity"],
                  "risk": "high_risk", "description": "Records were altered."}},
    ], default_actor="test")


@pytest.fixture
def filled(ledger: Ledger, tmp_path: Path) -> Ledger:
    fill(ledger, tmp_path / "day")
    more_events(ledger)
    return ledger


class _Tables(HTMLParser):
    """Every <table>: its caption and its rows (cell texts), and every <img>."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[dict[str, str]] = []
        self._caption: str | None = None
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._caption, self._rows = "", []
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []
        elif tag == "img":
            self.images.append({k: v or "" for k, v in attrs})

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None and self._rows is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[" ".join((self._caption or "").split())] = self._rows
            self._rows = None

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self._caption = (self._caption or "") + data
        elif self._cell is not None:
            self._cell.append(data)


def parsed(html: str) -> _Tables:
    p = _Tables()
    p.feed(html)
    return p


def section(html: str, label: str) -> str:
    """The text of the overview's card ``label`` (its heading's id)."""
    start = html.index(f'aria-labelledby="{label}"')
    return " ".join(re.sub(r"<[^>]+>", " ", html[start:html.index("</section>", start)])
                    .split())


def english(web: Web) -> None:
    r = web.post("/console/language", {"lang": "en", "next": "/console/overview"})
    assert r.status_code == 200


def _num(n: float) -> str:
    return str(format_decimal(n, locale="en_GB"))


def _plus(at: str, days: int) -> str:
    return format_time(parse_time(at) + timedelta(days=days))


def flat(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_overview_lists_what_the_registers_hold(filled: Ledger, db_url: str,
                                                    env: dict[str, str]) -> None:
    at = parse_when(AS_OF, "as_of", zone=ZONE)
    assert at is not None
    with Reader(db_url, "main", env=env) as reader:
        retention = reader.retention(as_of=at)
        requests = reader.requests(as_of=at, open_only=True)["requests"]
        breaches = reader.breaches(as_of=at)["breaches"]
        campaigns = {p: reader.consent_campaign(p, end=at)["choices"]
                     for p in ("cookies_functional", "cookies_audience",
                               "cookies_advertising", "cookies_social_networks")}
    with console_app(filled, db_url, env) as web:
        web.login("dpo")
        english(web)
        r = web.get(f"/console/overview?as_of={AS_OF}&from={PERIOD[0]}&to={PERIOD[1]}")
        assert r.status_code == 200, r.text
        html = r.text
    counts = retention["counts"]
    ret = section(html, "ov-retention")
    assert f"{counts['overdue']} item" in ret and f"{counts['due']} item" in ret
    overdue = [i for i in retention["items"] if i["status"] == "overdue"]
    assert overdue, "the demo's withdrawn advertising consent makes an item overdue"
    for item in overdue[:5]:
        assert item["category"] in ret

    late = [q["request_id"] for q in requests if q["overdue"]]
    soon = [q["request_id"] for q in requests if not q["overdue"]
            and q["due_at"] <= _plus(at, 7)]
    assert late == ["DPO-2026-0040"] and soon == ["DPO-2026-0041"]  # the events above
    req = section(html, "ov-requests")
    assert f"{len(late)} late request" in req and f"{len(soon)} due within 7 days" in req
    for rid in late + soon:
        assert rid in req
    answered = [q["request_id"] for q in reader_all_requests(db_url, env, at)
                if q["closed_at"] is not None]
    assert answered and not any(rid in req for rid in answered)

    running = {b["breach_id"]: b for b in breaches if b["status"] in ("pending", "overdue")}
    assert set(running) == {"BRK-2026-0408-01", "BRK-2026-0412-01"}
    brk = section(html, "ov-breaches")
    for b in breaches:
        assert (b["breach_id"] in brk) == (b["breach_id"] in running)
    over = running["BRK-2026-0408-01"]
    assert over["status"] == "overdue"
    hours_over = round((datetime.fromisoformat(at) - datetime.fromisoformat(over["deadline"]))
                       .total_seconds() / 3600, 1)
    assert f"overdue by {_num(hours_over)} h" in brk
    pending = running["BRK-2026-0412-01"]
    hours_left = round((datetime.fromisoformat(pending["deadline"])
                        - datetime.fromisoformat(at)).total_seconds() / 3600, 1)
    assert f"{_num(hours_left)} h left" in brk

    expiring = section(html, "ov-expiring")
    lapsing = 0
    for choices in campaigns.values():
        latest = {c["subject"]: c for c in choices}
        lapsing += sum(1 for c in latest.values() if c["choice"] == "given"
                       and c["expires_at"] and at < c["expires_at"] <= _plus(at, 30))
    assert f"{lapsing} consent" in expiring
    for word in PERSONAL:
        assert word not in html


def reader_all_requests(db_url: str, env: dict[str, str], at: str) -> list[dict[str, Any]]:
    with Reader(db_url, "main", env=env) as reader:
        return list(reader.requests(as_of=at)["requests"])


def test_consents_expiring_within_thirty_days(filled: Ledger, db_url: str,
                                              env: dict[str, str]) -> None:
    """The demo's cookie consents (3 March, valid six months) lapse on 3 September: listed
    on 20 August, not on 12 April nor after they lapsed."""
    with Reader(db_url, "main", env=env) as reader:
        at = parse_when("2026-08-20", "as_of", zone=ZONE)
        choices = reader.consent_campaign("cookies_audience", end=at)["choices"]
    latest = {c["subject"]: c for c in choices}
    expected = sum(1 for c in latest.values() if c["choice"] == "given")
    with console_app(filled, db_url, env) as web:
        web.login("dpo")
        english(web)
        shown = {}
        for day in ("2026-04-12", "2026-08-20", "2026-09-10"):
            html = web.get(f"/console/overview?as_of={day}").text
            shown[day] = parsed(html).tables.get("Consents that lapse soon, per purpose", [])
    rows = {r[0]: r for r in shown["2026-08-20"][1:]}
    assert rows["cookies_audience"][1] == str(expected) and expected >= 2
    assert shown["2026-04-12"] == [] and shown["2026-09-10"] == []


def test_the_charts_are_svg_images_followed_by_their_data(filled: Ledger, db_url: str,
                                                          env: dict[str, str]) -> None:
    lo = parse_when(PERIOD[0], "from", start_of_day=True, zone=ZONE)
    hi = parse_when(PERIOD[1], "to", zone=ZONE)
    with Reader(db_url, "main", env=env) as reader:
        counts = {p: reader.consent_campaign(p, start=lo, end=hi)["counts"] for p in (
            "recruitment", "cookies_functional", "cookies_audience", "cookies_advertising",
            "cookies_social_networks")}
        items = reader.retention(as_of=hi)["items"]
        received = [q for q in reader.requests(as_of=hi)["requests"]
                    if lo <= q["received_at"] <= hi]
    per_category: dict[str, int] = {}
    for i in items:
        if lo <= i["collected_at"] <= hi:  # type: ignore[operator]
            per_category[i["category"]] = per_category.get(i["category"], 0) + 1
    with console_app(filled, db_url, env) as web:
        web.login("dpo")
        english(web)
        page = parsed(web.get(f"/console/overview?as_of={AS_OF}&from={PERIOD[0]}"
                              f"&to={PERIOD[1]}").text)
        svgs = {}
        for img in page.images:
            r = web.get(img["src"].replace("&amp;", "&"))
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("image/svg+xml")
            assert "<svg" in r.text and "<script" not in r.text
            svgs[img["src"].split("/")[-1].split(".")[0]] = (img, r.text)
    assert set(svgs) == {"choices", "requests", "collections"}
    choices = page.tables["The data of the chart: Consent choices per purpose"]
    assert choices[0] == ["Purpose", "given", "refused", "withdrawn"]
    shown = {row[0]: [int(x) for x in row[1:]] for row in choices[1:]}
    assert shown == {p: [c["given"], c["refused"], c["withdrawn"]]
                     for p, c in counts.items() if any(c.values())}
    img, svg = svgs["choices"]
    assert len(re.findall(r'id="mark-choices-\d+"', svg)) == 3 * len(shown)
    total = sum(v[0] for v in shown.values())
    assert f"{total} given" in img["alt"]

    collections = page.tables["The data of the chart: Collections per data category"]
    assert {row[0]: int(row[1]) for row in collections[1:]} == per_category
    assert len(re.findall(r'id="mark-collections-\d+"', svgs["collections"][1])) \
        == len(per_category)

    reqs = page.tables["The data of the chart: Rights requests and the days they took"]
    assert [row[0] for row in reqs[1:]] == [q["request_id"] for q in received]
    assert len(re.findall(r'id="mark-requests-\d+"', svgs["requests"][1])) == len(received)
    assert f"in the period: {len(received)}" in svgs["requests"][0]["alt"]


def test_the_default_period_ends_at_the_newest_events_day(filled: Ledger, db_url: str,
                                                          env: dict[str, str]) -> None:
    with console_app(filled, db_url, env) as web:
        web.login("dpo")
        html = web.get("/console/overview").text
        # the newest event the charts count: the breach detected on 12 April (Paris)
        assert 'name="from" type="date" value="2026-03-14"' in html
        assert 'name="to" type="date" value="2026-04-12"' in html
        # kept per head of the ledger (NewestDay): a newer event moves the period at once
        filled.clock.now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # type: ignore[attr-defined]
        filled.append([{"type": "BreachDetected", "occurred_at": "2026-05-20T10:00:00+02:00",
                        "data": {"breach_id": "BRK-2026-0520", "nature": ["availability"],
                                 "risk": "unlikely", "description": "Panne."}}],
                      default_actor="test")
        html = web.get("/console/overview").text
        assert 'name="to" type="date" value="2026-05-20"' in html


@pytest.mark.parametrize("case", [
    ("from=2026-02-30", "from", "is not a valid calendar date"),
    ("from=2026-04-02&to=2026-04-01", "from", "must not be later than to"),
    ("to=yesterday", "to", "must be a day YYYY-MM-DD"),
    ("as_of=not-a-time", "as_of", ""),
    ("from=" + "2" * 300, "from", "must be a day YYYY-MM-DD"),
])
def test_bad_dates_are_refused_naming_the_field(ledger: Ledger, db_url: str,
                                                env: dict[str, str],
                                                case: tuple[str, str, str]) -> None:
    query, field, rule = case
    head = ledger.head()
    with console_app(ledger, db_url, env) as web:
        web.login("dpo")
        english(web)
        r = web.get(f"/console/overview?{query}")
        assert r.status_code == 422
        assert f"{field} {rule}".strip() in flat(r.text)
        chart = web.get(f"/console/overview/charts/choices.svg?{query}")
        assert chart.status_code == (422 if field != "as_of" else 200)
    assert ledger.head() == head  # nothing stored


def test_one_day_alone_gives_thirty_days(filled: Ledger, db_url: str,
                                         env: dict[str, str]) -> None:
    with console_app(filled, db_url, env) as web:
        web.login("dpo")
        after = web.get("/console/overview?from=2026-03-01").text
        before = web.get("/console/overview?to=2026-03-30").text
    assert 'name="to" type="date" value="2026-03-30"' in after
    assert 'name="from" type="date" value="2026-03-01"' in before


def test_the_auditor_may_not_see_the_overview(ledger: Ledger, db_url: str,
                                              env: dict[str, str]) -> None:
    with console_app(ledger, db_url, env) as web:
        web.login("auditor")
        assert web.get("/console/overview").status_code == 403
        assert web.get("/console/overview/charts/choices.svg").status_code == 403
        home = web.get("/console/")
        assert home.status_code == 200 and home.url.path == "/console/integrity"
        assert 'href="/console/overview"' not in home.text  # not in the navigation


def test_the_overview_speaks_french_by_default(filled: Ledger, db_url: str,
                                               env: dict[str, str]) -> None:
    with console_app(filled, db_url, env) as web:
        web.login("dpo")
        r = web.get(f"/console/overview?as_of={AS_OF}")
    text = flat(r.text)
    assert "<title>Vue d’ensemble · " in r.text
    assert "1 demande en retard" in text and "Violations : le délai de 72 heures" in text
    assert "rectification (art. 16)" in text  # the late request's right


def test_past_forty_requests_the_chart_counts_them_per_days_taken() -> None:
    from projections.console import overview_charts

    requests = [{"request_id": f"R-{i}", "right": "access", "status": "fulfilled",
                 "taken": float(i % 9) + 0.5, "allowed": 30.0, "open": False}
                for i in range(overview_charts.MAX_BARS + 1)]
    data = {"choices": [], "collections": [], "requests": requests}
    table = overview_charts.table("requests", data, str)
    assert table["columns"] == ["Days taken (whole days)", "Number of requests"]
    assert [row[0] for row in table["rows"]] == list(range(9))
    assert sum(row[1] for row in table["rows"]) == len(requests)
    assert table["rows"][0][1] == sum(1 for r in requests if int(r["taken"]) == 0)
    svg = overview_charts.draw("requests", data, str)
    assert len(re.findall(r'id="mark-requests-\d+"', svg)) == 9
    fewer = {**data, "requests": requests[:5]}
    assert len(overview_charts.table("requests", fewer, str)["rows"]) == 5


def test_the_lists_link_to_their_registers_at_the_same_moment(ledger: Ledger, db_url: str,
                                                              env: dict[str, str]) -> None:
    with console_app(ledger, db_url, env) as web:
        web.login("dpo")
        now = web.get("/console/overview").text
        then = web.get(f"/console/overview?as_of={AS_OF}").text
    assert 'href="/console/registers/retention"' in now
    assert 'href="/console/registers/requests?open=true"' in now
    assert f'href="/console/registers/retention?as_of={AS_OF}"' in then
    assert f'href="/console/registers/requests?open=true&amp;as_of={AS_OF}"' in then
    assert f'href="/console/registers/breaches?as_of={AS_OF}"' in then
