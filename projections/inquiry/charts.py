"""The report's charts, drawn by matplotlib (Agg backend) as inline SVG.

Each chart comes with its text alternative and its data table (the template shows
both).  Every mark (a bar) is an SVG group whose id starts with ``mark-``, so a reader
(or a test) can count them.  The output is deterministic: fixed hash salt, no date in
the metadata, text kept as text.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from ledger.domain.periods import time_zone

from .plurals import agree

__all__ = ["Chart", "consent_timeline", "request_days"]

COLOURS = {"given": "#2e7d32", "refused": "#9e9e9e", "withdrawn": "#c62828"}
MAX_DAYS = 93  # past it the timeline shows only the days with a choice
MAX_BARS = 40  # past it the requests' chart counts requests per number of days taken

Chart = dict[str, Any]  # {"svg", "alt", "columns", "rows", "marks"}


def _setup() -> None:
    plt.rcParams.update({"svg.hashsalt": "ledger-inquiry", "svg.fonttype": "none",
                         "font.family": "DejaVu Sans", "font.size": 9})


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None},
                bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _local_day(utc_text: str, zone: str) -> date:
    moment = datetime.fromisoformat(utc_text)
    try:
        return moment.astimezone(time_zone(zone)).date()
    except OverflowError:  # the edge of year 9999
        return moment.date()


def consent_timeline(by_time: Sequence[tuple[tuple[str, str], int]], start: str, end: str,
                     zone: str, labels: dict[str, str]) -> Chart:
    """Choices per local day (given, refused, withdrawn), one group of bars per day."""
    counts: dict[date, dict[str, int]] = {}
    for (when, choice), n in by_time:
        day = _local_day(when, zone)
        counts.setdefault(day, dict.fromkeys(COLOURS, 0))[choice] += n
    first, last = _local_day(start, zone), _local_day(end, zone)
    if (last - first).days < MAX_DAYS:
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    else:
        days = sorted(counts)
    _setup()
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    width, marks = 0.8 / len(COLOURS), 0
    for k, choice in enumerate(COLOURS):
        ys = [counts.get(d, {}).get(choice, 0) for d in days]
        xs = [i + (k - 1) * width for i in range(len(days))]
        bars = ax.bar(xs, ys, width, color=COLOURS[choice], label=labels[choice])
        for bar in bars:
            bar.set_gid(f"mark-consent-{marks}")
            marks += 1
    step = max(1, len(days) // 12)
    ax.set_xticks(range(0, len(days), step), [d.strftime("%d/%m") for d in days][::step])
    ax.set_ylabel(labels["choices"])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    rows = [[d.isoformat(), *(counts.get(d, {}).get(c, 0) for c in COLOURS)] for d in days
            if d in counts]
    total = {c: sum(v[c] for v in counts.values()) for c in COLOURS}
    alt = agree(labels["timeline_alt"], labels["lang"], days=len(days), **total)
    return {"svg": _svg(fig), "alt": alt, "marks": marks,
            "columns": [labels["day"], *(labels[c] for c in COLOURS)], "rows": rows}


def request_days(rows: Sequence[dict[str, Any]], at: str, labels: dict[str, str]) -> Chart:
    """Days taken to answer each request (or open so far), against its deadline: one bar
    per request, or past :data:`MAX_BARS` requests, how many took each number of days."""
    def days(a: str, b: str) -> float:
        return round((datetime.fromisoformat(b) - datetime.fromisoformat(a))
                     .total_seconds() / 86400, 1)
    data = [(r["request_id"], days(r["received_at"], r["closed_at"] or at),
             days(r["received_at"], r["due_at"])) for r in rows]
    late = sum(1 for d in data if d[1] > d[2])
    alt = agree(labels["requests_alt"], labels["lang"], n=len(data), late=late)
    if len(data) > MAX_BARS:
        return _request_histogram(data, alt, labels)
    _setup()
    fig, ax = plt.subplots(figsize=(7.5, 0.6 + 0.35 * max(len(data), 1)))
    ys = list(range(len(data)))
    bars = ax.barh(ys, [d[1] for d in data], 0.6, color="#1565c0", label=labels["taken"])
    for i, bar in enumerate(bars):
        bar.set_gid(f"mark-requests-{i}")
    ax.scatter([d[2] for d in data], ys, marker="|", s=300, color="#c62828",
               label=labels["deadline"], zorder=3)
    ax.set_yticks(ys, [d[0] for d in data])
    ax.invert_yaxis()
    _finish(ax, labels, len(data))
    return {"svg": _svg(fig), "alt": alt, "marks": len(data),
            "columns": [labels["request"], labels["taken"], labels["deadline"]],
            "rows": [list(d) for d in data]}


def _finish(ax: Any, labels: dict[str, str], n: int) -> None:
    ax.set_xlabel(labels["days"])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35 if n < 4 else -0.12),
              ncol=2, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)


def _request_histogram(data: list[tuple[str, float, float]], alt: str,
                       labels: dict[str, str]) -> Chart:
    taken = Counter(int(d[1]) for d in data)
    whole = list(range(max(taken) + 1))
    _setup()
    fig, ax = plt.subplots(figsize=(7.5, 2.8))
    bars = ax.bar(whole, [taken.get(x, 0) for x in whole], 0.8, color="#1565c0",
                  label=labels["taken"])
    for i, bar in enumerate(bars):
        bar.set_gid(f"mark-requests-{i}")
    ax.axvline(min(d[2] for d in data), color="#c62828", label=labels["deadline"])
    ax.set_ylabel(labels["requests_n"])
    _finish(ax, labels, 0)
    return {"svg": _svg(fig), "alt": alt, "marks": len(whole),
            "columns": [labels["taken"], labels["requests_n"]],
            "rows": [[x, taken.get(x, 0)] for x in whole]}
