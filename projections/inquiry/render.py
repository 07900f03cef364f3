"""The report as one self-contained HTML file (Jinja2, autoescape on).

Times are shown in the policy's time zone with their offset (French format in French);
numbers with Babel's locale rules.  No script, no external resource: a
Content-Security-Policy forbids every load but inline styles and ``data:`` images.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from babel.numbers import format_decimal
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ledger.domain.periods import time_zone

from .charts import consent_timeline, request_days
from .plurals import agree
from .sections import Gathered
from .strings import SECTIONS, STRINGS, VALUES

__all__ = ["render_report", "show_time"]

LOCALES = {"fr": "fr_FR", "en": "en_GB"}


@lru_cache(maxsize=65536)  # a register repeats its recording times (one per append)
def show_time(utc_text: str | None, zone: str, lang: str) -> str:
    """A ledger time for people: ``03/03/2026 10:12 (+01:00)`` in French,
    ``2026-03-03 10:12 +01:00`` in English."""
    if not utc_text:
        return "—"
    try:
        local = datetime.fromisoformat(utc_text).astimezone(time_zone(zone))
    except OverflowError:  # the edge of year 9999: shown in UTC
        return utc_text
    offset = local.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"
    if lang == "fr":
        return f"{local:%d/%m/%Y %H:%M} ({offset})"
    return f"{local:%Y-%m-%d %H:%M} {offset}"


def _environment() -> Environment:
    return Environment(loader=PackageLoader("projections.inquiry", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)


def render_report(g: Gathered, *, zone: str, evidence: dict[str, Any],
                  entries: dict[int, dict[str, Any]], generated_at: str) -> str:
    """The report's HTML; ``entries``: the cited entries (seq -> entry and proof line)."""
    scope, lang = g.scope, g.scope.lang
    t = STRINGS[lang]

    def num(n: float | None) -> str:
        return "—" if n is None else format_decimal(n, locale=LOCALES[lang])

    record = dict(g.sections["record"])
    record["versions"] = [{**v, "digest": entries.get(v["seq"], {}).get("payload", {})
                           .get("digest", "—"), "hash": entries.get(v["seq"], {}).get(
                               "hash")} for v in record["versions"]]
    labels = {**t, "given": t["given"], "refused": t["refused"], "withdrawn": t["withdrawn"]}
    charts = {"consent": consent_timeline(g.sections["consent"]["by_time"], scope.start,
                                          scope.end, zone, labels),
              "requests": request_days(g.sheets.get("requests", []), scope.at, labels)}
    index = [{"seq": s, "type": e["type"], "occurred_at": e["occurred_at"],
              "hash": e["hash"], "line": e["line"]} for s, e in sorted(entries.items())]
    verified = evidence["verified"]
    return _environment().get_template("report.html.j2").render(
        lang=lang, t=t, toc=SECTIONS[lang], title=scope.title or t["title"],
        reference=scope.reference, scope=scope, zone=zone, purposes=g.sections["purposes"],
        generated_at=generated_at, record=record, consent=g.sections["consent"],
        retention=g.sections["retention"], requests=g.sections["requests"],
        breaches=g.sections["breaches"], disclosures=g.sections["disclosures"],
        accesses=g.sections["accesses"], charts=charts, evidence=index,
        integrity={"ok": verified["ok"], "first_seq": verified["first_seq"],
                   "last_seq": verified["last_seq"], "entries": verified["entries"],
                   "checkpoints": verified["checkpoints_verified"]},
        checkpoint=evidence["checkpoint"], pubkey=evidence["bundle"]["pubkey"],
        margin=evidence["margin"], left_out=dict(g.left_out), reveal=scope.reveal,
        time=lambda text: show_time(text, zone, lang), num=num, agree=agree,
        v=lambda code: VALUES[lang].get(str(code), code) if code is not None else "—")
