"""What the overview shows, read from the registers (the projections' Reader): no personal
value, only pseudonymous rows the API's registers answer to the DPO too.

"Now" is ``at`` (UTC text): the time the page looks from (default: the request's time).

- retention: the items ``overdue`` (deadline passed) and ``due`` (deadline within the
  register's window, ``DUE_WINDOW_DAYS``) at ``at``, their counts and the first rows;
- rights requests still open that are late (``overdue``) or due within
  :data:`WEEK_DAYS` days;
- breaches whose 72-hour clock runs: not notified, not assessed ``unlikely`` to be a
  risk (status ``pending`` or ``overdue``), with the hours left or past the deadline;
- consents expiring: a consent whose latest choice (per pseudonym and purpose) is a grant
  whose expiry (the purpose's ``consent_validity`` in the policy the consent cites)
  falls within :data:`EXPIRY_DAYS` days after ``at``;
- over a period: choices per purpose, requests received and the days they took,
  collections per data category (the charts and their tables).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from ledger.domain.periods import time_zone
from ledger.trust.canonical import format_time, parse_time

from ..queries import Reader

__all__ = ["EXPIRY_DAYS", "FIRST_ROWS", "PERIOD_DAYS", "WEEK_DAYS", "days_between", "needs",
           "newest_day", "period"]

WEEK_DAYS = 7       # "due this week": due within the next seven days
EXPIRY_DAYS = 30    # "consents expiring": expiring within the next thirty days
FIRST_ROWS = 5      # rows shown per list (the registers page has them all)
PERIOD_DAYS = 30    # the charts' default period: the 30 days ending at the newest event


def _plus(at: str, days: int) -> str:
    return format_time(parse_time(at) + timedelta(days=days))


def hours_between(start: str, end: str) -> float:
    return round((parse_time(end) - parse_time(start)).total_seconds() / 3600, 1)


def days_between(start: str, end: str) -> float:
    return round((parse_time(end) - parse_time(start)).total_seconds() / 86400, 1)


def consent_purposes(reader: Reader, *, with_validity: bool = False) -> list[str]:
    """Every purpose of a published policy that asks for consent (``with_validity``: whose
    consent lapses in some policy), in first-seen order."""
    seen: dict[str, bool] = {}
    for policy in reader.policies().in_order():
        for p in policy.purposes:
            if p.consent_required or p.consent_validity is not None:
                seen[p.id] = seen.get(p.id, False) or p.consent_validity is not None
    return [p for p, lapses in seen.items() if lapses or not with_validity]


def _retention(reader: Reader, at: str) -> dict[str, Any]:
    doc = reader.retention(as_of=at)
    rows = sorted((i for i in doc["items"] if i["status"] in ("overdue", "due")),
                  key=lambda i: (i["deadline"] or "", i["seq"]))
    return {"overdue": doc["counts"]["overdue"], "due": doc["counts"]["due"],
            "window_days": doc["due_window_days"],
            "rows": [{"category": i["category"], "purpose": i["purpose"],
                      "deadline": i["deadline"], "reason": i["reason"],
                      "status": i["status"], "seq": i["seq"]} for i in rows[:FIRST_ROWS]]}


def _requests(reader: Reader, at: str) -> dict[str, Any]:
    week = _plus(at, WEEK_DAYS)
    items = reader.requests(as_of=at, open_only=True)["requests"]
    late = sorted((r for r in items if r["overdue"]), key=lambda r: (r["due_at"], r["seq"]))
    soon = sorted((r for r in items if not r["overdue"] and r["due_at"] <= week),
                  key=lambda r: (r["due_at"], r["seq"]))

    def row(r: dict[str, Any]) -> dict[str, Any]:
        return {"request_id": r["request_id"], "right": r["right"], "status": r["status"],
                "received_at": r["received_at"], "due_at": r["due_at"],
                "days": days_between(r["due_at"], at) if r["overdue"]
                else days_between(at, r["due_at"]), "overdue": r["overdue"]}
    return {"late": len(late), "due": len(soon), "week_days": WEEK_DAYS,
            "rows": [row(r) for r in (late + soon)[:FIRST_ROWS]]}


def _breaches(reader: Reader, at: str) -> list[dict[str, Any]]:
    out = []
    for b in reader.breaches(as_of=at)["breaches"]:
        if b["status"] not in ("pending", "overdue"):
            continue
        out.append({"breach_id": b["breach_id"], "discovered_at": b["discovered_at"],
                    "deadline": b["deadline"], "hours_allowed": b["hours_allowed"],
                    "hours_left": max(0.0, hours_between(at, b["deadline"])),
                    "hours_over": max(0.0, hours_between(b["deadline"], at)),
                    "status": b["status"], "risk": b["risk"]})
    return sorted(out, key=lambda b: b["deadline"])


def _expiring(reader: Reader, at: str) -> dict[str, Any]:
    """Per purpose with a consent validity: the consents (latest choice a grant) that lapse
    in (at, at + EXPIRY_DAYS days], and the first to lapse."""
    until = _plus(at, EXPIRY_DAYS)
    rows = []
    for purpose in consent_purposes(reader, with_validity=True):
        latest: dict[str, dict[str, Any]] = {}
        for c in reader.consent_campaign(purpose, end=at)["choices"]:  # time order
            latest[c["subject"]] = c
        lapsing = sorted(c["expires_at"] for c in latest.values()
                         if c["choice"] == "given" and c["expires_at"] is not None
                         and at < c["expires_at"] <= until)
        if lapsing:
            rows.append({"purpose": purpose, "count": len(lapsing), "first": lapsing[0]})
    return {"days": EXPIRY_DAYS, "total": sum(r["count"] for r in rows), "rows": rows}


def needs(reader: Reader, at: str) -> dict[str, Any]:
    """What needs the DPO at ``at``."""
    return {"at": at, "retention": _retention(reader, at), "requests": _requests(reader, at),
            "breaches": _breaches(reader, at), "expiring": _expiring(reader, at)}


# -- the period of the charts -------------------------------------------------------------
def newest_day(reader: Reader, zone: str) -> date | None:
    """The local day of the newest event the charts count (a choice, a collection, a
    request received, a breach detected), or None when there is none."""
    times = [i["collected_at"] for i in reader.retention()["items"]]
    times += [r["received_at"] for r in reader.requests()["requests"]]
    times += [b["detected_at"] for b in reader.breaches()["breaches"]]
    for purpose in consent_purposes(reader):
        choices = reader.consent_campaign(purpose)["choices"]
        if choices:
            times.append(choices[-1]["occurred_at"])
    if not times:
        return None
    return datetime.fromisoformat(max(times)).astimezone(time_zone(zone)).date()


class NewestDay:
    """:func:`newest_day` once per head of the ledger: it reads every register (about 1 s
    of the overview's 3–4 s at 100,000 events, PERFORMANCE.md), and the page and each of
    its three chart images ask for it; the answer changes only when entries are added."""

    def __init__(self) -> None:
        self._kept: tuple[tuple[int, str], date | None] | None = None
        self._lock = threading.Lock()

    def get(self, reader: Reader, zone: str, head: int) -> date | None:
        with self._lock:
            if self._kept is not None and self._kept[0] == (head, zone):
                return self._kept[1]
        found = newest_day(reader, zone)
        with self._lock:
            self._kept = ((head, zone), found)
        return found


def period(reader: Reader, start: str, end: str, at: str,
           parts: tuple[str, ...] = ("choices", "requests", "collections")) -> dict[str, Any]:
    """The charts' counts for events that occurred in [start, end] (UTC texts), as the
    registers stood at the earlier of ``end`` and ``at`` (now); only the ``parts`` asked
    for (a chart's image needs one)."""
    upto = min(end, at)
    out: dict[str, Any] = {"from": start, "to": end, "choices": [], "requests": [],
                           "collections": []}
    if "choices" in parts:
        for purpose in consent_purposes(reader):
            counts = reader.consent_campaign(purpose, start=start, end=end)["counts"]
            if any(counts.values()):
                out["choices"].append({"purpose": purpose, **counts})
    if "requests" in parts:
        out["requests"] = [
            {"request_id": r["request_id"], "right": r["right"], "status": r["status"],
             "received_at": r["received_at"],
             "taken": days_between(r["received_at"], r["closed_at"] or upto),
             "allowed": days_between(r["received_at"], r["due_at"]),
             "open": r["closed_at"] is None}
            for r in reader.requests(as_of=upto)["requests"]
            if start <= r["received_at"] <= end]
    if "collections" in parts:
        collected = Counter(i["category"] for i in reader.retention(as_of=upto)["items"]
                            if start <= i["collected_at"] <= end)
        out["collections"] = [{"category": c, "count": n} for c, n in
                              sorted(collected.items(), key=lambda x: (-x[1], x[0]))]
    return out
