"""The overview's charts, drawn by matplotlib (Agg) as SVG documents served on their own
route (an ``<img>``: the console's CSP forbids the inline styles of matplotlib's SVG).

Each chart has a text alternative (:func:`alt`) and a data table (:func:`table`), built
from the same counts (:mod:`overview_data`) without drawing; the drawing happens only
when the image is asked for.  Every mark (a bar) is an SVG group whose id starts with
``mark-``; the output is deterministic (fixed hash salt, no date in the metadata).
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .i18n import N_
from .page_person_view import LABELS as PERSON_WORDS

__all__ = ["CHARTS", "MAX_BARS", "RIGHTS", "alt", "draw", "per_days_taken", "table"]

Gettext = Callable[[str], str]
CHOICES = ("given", "refused", "withdrawn")
COLOURS = {"given": "#2e7d32", "refused": "#757575", "withdrawn": "#c62828"}
BLUE, RED = "#1565c0", "#c62828"
CHARTS = ("choices", "requests", "collections")
MAX_BARS = 40  # past it, the requests' chart and table count requests per days taken




# the codes' words are the person page's (one wording, one translation, for the console)
RIGHTS = PERSON_WORDS["right"]
REQUEST_STATUSES = PERSON_WORDS["request"]
LABELS = {"given": N_("given"), "refused": N_("refused"), "withdrawn": N_("withdrawn"),
          "purpose": N_("Purpose"), "choices_n": N_("Choices"),
          "request": N_("Request"), "right": N_("Right"), "taken": N_("Days taken"),
          "allowed": N_("Days allowed"), "status": N_("Status"), "days": N_("Days"),
          "category": N_("Data category"), "collections_n": N_("Collections"),
          "whole_days": N_("Days taken (whole days)"), "requests_n": N_("Number of requests")}
ALTS = {
    "choices": N_("Consent choices per purpose: %(given)s given, %(refused)s refused, "
                  "%(withdrawn)s withdrawn over %(purposes)s purposes."),
    "requests": N_("Rights requests received in the period: %(n)s; answered or open longer "
                   "than allowed: %(late)s; longest: %(longest)s days."),
    "collections": N_("Collections per data category: %(n)s in all over %(categories)s "
                      "categories; most: %(top)s."),
}


def table(name: str, data: dict[str, Any], _: Gettext) -> dict[str, Any]:
    """The chart's data table: column headings (translated) and rows (cells as data)."""
    if name == "choices":
        return {"columns": [_(LABELS["purpose"]), *(_(LABELS[c]) for c in CHOICES)],
                "rows": [[c["purpose"], *(c[k] for k in CHOICES)] for c in data["choices"]]}
    if name == "requests" and len(data["requests"]) > MAX_BARS:
        return {"columns": [_(LABELS["whole_days"]), _(LABELS["requests_n"])],
                "rows": [list(x) for x in per_days_taken(data["requests"])]}
    if name == "requests":
        return {"columns": [_(LABELS[k]) for k in ("request", "right", "taken", "allowed",
                                                  "status")],
                "rows": [[r["request_id"], _(RIGHTS.get(r["right"], r["right"])), r["taken"],
                          r["allowed"], _(REQUEST_STATUSES.get(r["status"], r["status"]))]
                         for r in data["requests"]]}
    return {"columns": [_(LABELS["category"]), _(LABELS["collections_n"])],
            "rows": [[c["category"], c["count"]] for c in data["collections"]]}


def alt(name: str, data: dict[str, Any], _: Gettext, num: Callable[[float], str]) -> str:
    """What the chart shows, in a sentence (the image's ``alt``)."""
    if name == "choices":
        total = {k: num(sum(c[k] for c in data["choices"])) for k in CHOICES}
        return _(ALTS["choices"]) % {**total, "purposes": num(len(data["choices"]))}
    if name == "requests":
        rows = data["requests"]
        late = sum(1 for r in rows if r["taken"] > r["allowed"])
        longest = max((r["taken"] for r in rows), default=0)
        return _(ALTS["requests"]) % {"n": num(len(rows)), "late": num(late),
                                      "longest": num(longest)}
    rows = data["collections"]
    return _(ALTS["collections"]) % {
        "n": num(sum(c["count"] for c in rows)), "categories": num(len(rows)),
        "top": rows[0]["category"] if rows else "—"}


def per_days_taken(requests: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(whole days taken, how many requests took them), every number of days up to the
    longest: the requests' chart past :data:`MAX_BARS` requests."""
    taken = Counter(int(r["taken"]) for r in requests)
    return [(d, taken.get(d, 0)) for d in range(max(taken, default=-1) + 1)]


# -- drawing ------------------------------------------------------------------------------
# matplotlib's settings are global: one drawing at a time (the pages are served by threads)
_DRAWING = threading.Lock()
_STYLE: dict[Any, Any] = {"svg.hashsalt": "ledger-console", "svg.fonttype": "none",
                          "font.family": "DejaVu Sans", "font.size": 9}


def _figure(n: int) -> tuple[Figure, Any]:
    fig = Figure(figsize=(7.5, 1.2 + 0.32 * max(n, 1)))
    return fig, fig.subplots()


def _choices(data: dict[str, Any], _: Gettext) -> Any:
    rows = data["choices"]
    fig, ax = _figure(len(rows) * 2)
    width = 0.8 / len(CHOICES)
    marks = 0
    for k, choice in enumerate(CHOICES):
        ys = [i + (k - 1) * width for i in range(len(rows))]
        bars = ax.barh(ys, [r[choice] for r in rows], width, color=COLOURS[choice],
                       label=_(LABELS[choice]))
        for bar in bars:
            bar.set_gid(f"mark-choices-{marks}")
            marks += 1
    ax.set_yticks(range(len(rows)), [r["purpose"] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(_(LABELS["choices_n"]))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig, ax


def _requests(data: dict[str, Any], _: Gettext) -> Any:
    rows = data["requests"]
    if len(rows) > MAX_BARS:
        return _requests_per_days(rows, _)
    fig, ax = _figure(len(rows))
    ys = list(range(len(rows)))
    bars = ax.barh(ys, [r["taken"] for r in rows], 0.6, color=BLUE, label=_(LABELS["taken"]))
    for i, bar in enumerate(bars):
        bar.set_gid(f"mark-requests-{i}")
    if rows:
        ax.scatter([r["allowed"] for r in rows], ys, marker="|", s=300, color=RED,
                   label=_(LABELS["allowed"]), zorder=3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_yticks(ys, [r["request_id"] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(_(LABELS["days"]))
    return fig, ax


def _requests_per_days(rows: list[dict[str, Any]], _: Gettext) -> Any:
    counts = per_days_taken(rows)
    fig = Figure(figsize=(7.5, 3.0))
    ax = fig.subplots()
    bars = ax.bar([d for d, _n in counts], [n for _d, n in counts], 0.8, color=BLUE,
                  label=_(LABELS["requests_n"]))
    for i, bar in enumerate(bars):
        bar.set_gid(f"mark-requests-{i}")
    ax.axvline(min(r["allowed"] for r in rows), color=RED, label=_(LABELS["allowed"]))
    ax.set_xlabel(_(LABELS["whole_days"]))
    ax.set_ylabel(_(LABELS["requests_n"]))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig, ax


def _collections(data: dict[str, Any], _: Gettext) -> Any:
    rows = data["collections"]
    fig, ax = _figure(len(rows))
    ys = list(range(len(rows)))
    bars = ax.barh(ys, [r["count"] for r in rows], 0.6, color=BLUE)
    for i, bar in enumerate(bars):
        bar.set_gid(f"mark-collections-{i}")
    ax.set_yticks(ys, [r["category"] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(_(LABELS["collections_n"]))
    return fig, ax


def draw(name: str, data: dict[str, Any], _: Gettext) -> str:
    """The chart ``name`` (one of :data:`CHARTS`) as an SVG document."""
    buf = io.StringIO()
    with _DRAWING, matplotlib.rc_context(_STYLE):
        fig, ax = {"choices": _choices, "requests": _requests,
                   "collections": _collections}[name](data, _)
        ax.spines[["top", "right"]].set_visible(False)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None},
                    bbox_inches="tight")
    return buf.getvalue()
