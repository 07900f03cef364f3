"""The report's sections as data, read from the registers (projections.queries.Reader).

Nothing is recomputed here: each section filters the rows a register answers to the
inquiry's scope, and counts them into :class:`~.figures.Figures` (which the evidence
lets anyone recount).  Data minimisation: a row about a subject outside the scope keeps
no subject reference (``subject`` None): such subjects appear in counts only.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ledger.domain.policy_book import PolicyBook
from ledger.errors import InputError
from ledger.trust.canonical import format_time

from ..queries import Reader
from .figures import Figures
from .scope import Scope

__all__ = ["CHOICES", "ROWS_SHOWN", "Gathered", "gather"]

CHOICES = ("given", "refused", "withdrawn")
CHOICE_TYPES = {"given": "ConsentGiven", "refused": "ConsentRefused",
                "withdrawn": "ConsentWithdrawn"}
ROWS_SHOWN = 300  # rows of one table in the report (the spreadsheets hold every row)


class Gathered:
    """What the report says: sections, figures, the subjects in scope, the cited seqs."""

    def __init__(self, scope: Scope, reader: Reader, pseudonyms: dict[str, str]) -> None:
        self.scope, self.reader = scope, reader
        self.pseudonyms = pseudonyms                  # reference -> pseudonym
        self.in_scope = set(pseudonyms.values())
        self.figures = Figures(scope)
        self.cited: dict[int, str] = {}
        self.sections: dict[str, Any] = {}
        self.left_out: dict[str, int] = Counter()
        self.sheets: dict[str, list[dict[str, Any]]] = {}

    def inside(self, when: str | None) -> bool:
        return when is not None and self.scope.start <= when <= self.scope.end

    def who(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row, its subject kept only when in scope (counted as left out otherwise)."""
        subject = row.get("subject")
        if subject is not None and subject not in self.in_scope:
            self.left_out["rows_without_subject"] += 1
            return {**row, "subject": None}
        return row

    def cite(self, rows: list[dict[str, Any]], sheet: str | None = None,
             seq: str = "seq") -> list[dict[str, Any]]:
        """The rows shown in the report (at most ROWS_SHOWN), their entries cited; every
        row goes to the spreadsheet ``sheet``."""
        if sheet is not None:
            self.sheets.setdefault(sheet, []).extend(rows)
        shown = rows[:ROWS_SHOWN]
        for r in shown:
            if r.get(seq) is not None and r.get("hash"):
                self.cited[int(r[seq])] = str(r["hash"])
        self.left_out["rows_in_spreadsheets_only"] += len(rows) - len(shown)
        return shown


def gather(scope: Scope, reader: Reader, pseudonyms: dict[str, str]) -> Gathered:
    g = Gathered(scope, reader, pseudonyms)
    frame = {"as_of": scope.at, "known_at": scope.known_at}
    policies = reader.policies(scope.known_at)
    purposes = _purposes(scope, policies)
    g.sections["purposes"] = purposes
    _record(g, frame, policies, purposes)
    _consent(g, purposes)
    _retention(g, frame, purposes)
    _requests(g, frame)
    _breaches(g, frame)
    _disclosures(g, frame, purposes)
    _accesses(g)
    return g


def _purposes(scope: Scope, policies: PolicyBook) -> list[str]:
    known = {p.id for pol in policies.in_order() for p in pol.purposes}
    for p in scope.purposes:
        if p not in known:
            raise InputError(scope.names.get("purpose", "--purpose"),
                             f"{p!r} is not a purpose of any published policy")
    return list(scope.purposes) or sorted(known)


def _record(g: Gathered, frame: dict[str, Any], policies: PolicyBook,
            purposes: list[str]) -> None:
    """Section 2: the Art. 30 record for the purposes in scope, the policies in force."""
    try:
        doc = g.reader.ropa(**frame)
    except InputError as exc:  # no policy in force at the end of the period: said so
        if exc.field != "--as-of":
            raise
        doc = {"policy": None, "controller": {"name": "—", "address": "—"},
               "dpo_email": None, "purposes": []}
    rows = [p for p in doc["purposes"] if p["id"] in purposes]
    versions: list[dict[str, Any]] = []
    published = policies.published
    for i, (effective, seq, policy) in enumerate(published):
        until = published[i + 1][0] if i + 1 < len(published) else None
        if effective.isoformat() <= g.scope.end.replace("Z", "+00:00") and (
                until is None or until.isoformat() > g.scope.start.replace("Z", "+00:00")):
            versions.append({"version": policy.version, "id": policy.id, "seq": seq,
                             "effective_at": doc_time(effective),
                             "until": doc_time(until) if until else None})
    g.sections["record"] = {"policy": doc["policy"], "controller": doc["controller"],
                            "dpo_email": doc["dpo_email"], "purposes": rows,
                            "versions": versions, "notices": []}
    for v in versions:  # the PolicyPublished entries: their hashes come with their proofs
        g.cited.setdefault(v["seq"], "")


def doc_time(moment: Any) -> str:
    return format_time(moment)


def _consent(g: Gathered, purposes: list[str]) -> None:
    """Section 3: choices per purpose over the period, and each subject's proof."""
    scope, per_purpose, days, notices = g.scope, [], Counter[tuple[str, str]](), set()
    consented = [p for p in purposes if _campaign_purpose(g, p)]
    for p in consented:
        doc = g.reader.consent_campaign(p, start=scope.start, end=scope.end,
                                        known_at=scope.known_at)
        counts = {c: g.figures.add(f"consent.{c}.{p}", 3, f"{c}:{p}", doc["counts"][c],
                                   [CHOICE_TYPES[c]], payload={"purpose": p})
                  for c in CHOICES}
        expired = sum(1 for r in doc["choices"] if g.inside(r.get("expires_at")))
        for r in doc["choices"]:
            days[(r["occurred_at"], r["choice"])] += 1
            if r.get("notice_id"):
                notices.add(r["notice_id"])
        per_purpose.append({"purpose": p, "counts": counts, "expired": expired,
                            "subjects": doc["subjects"],
                            "rows": g.cite([{**g.who(r), "purpose": p} for r in doc["choices"]],
                           "consent")})
    subjects = []
    for ref, pseudonym in g.pseudonyms.items():
        state = g.reader.consent(ref, as_of=scope.at, known_at=scope.known_at)
        items = [i for i in state["purposes"] if i["purpose"] in purposes]
        for item in items:
            g.cite(item["history"])
            notices |= {h["notice_id"] for h in item["history"] if h.get("notice_id")}
        after = g.reader.retention(as_of=scope.at, known_at=scope.known_at,
                                   subject=f"pseudonym:{pseudonym}")
        subjects.append({"ref": ref, "pseudonym": pseudonym, "known": state["known"],
                         "purposes": items, "items": g.cite(after["items"]), "revealed": []})
    found = g.reader.notices(notices)
    g.cite(list(found.values()))
    g.sections["record"]["notices"] = sorted(found.values(), key=lambda n: n["seq"])
    g.sections["consent"] = {"purposes": per_purpose, "subjects": subjects,
                             "by_time": sorted(days.items())}


def _campaign_purpose(g: Gathered, purpose: str) -> bool:
    record = g.sections["record"]["purposes"]
    return any(p["id"] == purpose and p.get("consent_required") for p in record) or bool(
        g.scope.purposes)


def _retention(g: Gathered, frame: dict[str, Any], purposes: list[str]) -> None:
    """Section 4: collected per category, past deadline, erasures, legal holds."""
    doc = g.reader.retention(**frame)
    items = [i for i in doc["items"] if i["purpose"] in purposes]
    collected = [i for i in items if g.inside(i["collected_at"])]
    per = Counter((i["purpose"], i["category"]) for i in collected)
    per_category = [{"purpose": p, "category": c,
                     "count": g.figures.add(f"collected.{p}.{c}", 4, f"{p}/{c}", n,
                                            ["DataCollected"],
                                            payload={"purpose": p, "category": c})}
                    for (p, c), n in sorted(per.items())]
    ended = [i for i in items if i["status"] in ("erased", "anonymised")
             and g.inside(i.get("ended_at"))]
    for i in ended:
        i["on_time"] = i["deadline"] is None or i["ended_at"] <= i["deadline"]
    g.sections["retention"] = {
        "per_category": per_category,
        "overdue": g.cite([g.who(i) for i in items if i["status"] == "overdue"], "retention"),
        "ended": g.cite([g.who(i) for i in ended], "retention"),
        "held": g.cite([g.who(i) for i in items if i["status"] == "held"], "retention"),
    }


def _requests(g: Gathered, frame: dict[str, Any]) -> None:
    """Section 5: rights requests received in the period (or those asked about)."""
    doc = g.reader.requests(**frame)
    rows = [r for r in doc["requests"] if g.inside(r["received_at"])]
    received = g.figures.add("requests.received", 5, "RightsRequestReceived", len(rows),
                             ["RightsRequestReceived"])
    if g.scope.requests:
        rows = [r for r in rows if r["request_id"] in g.scope.requests]
    g.sections["requests"] = {"received": received,
                              "rows": g.cite([g.who(r) for r in rows], "requests"),
                              "late": sum(1 for r in rows if r["overdue"] or
                                          r["answered_late"])}


def _breaches(g: Gathered, frame: dict[str, Any]) -> None:
    """Section 6: the breach register (detected in the period, or those asked about)."""
    doc = g.reader.breaches(**frame)
    rows = [b for b in doc["breaches"] if g.inside(b["detected_at"])]
    detected = g.figures.add("breaches.detected", 6, "BreachDetected", len(rows),
                             ["BreachDetected"])
    if g.scope.breaches:
        rows = [b for b in rows if b["breach_id"] in g.scope.breaches]
    g.sections["breaches"] = {"detected": detected, "rows": g.cite(rows, "breaches")}


def _disclosures(g: Gathered, frame: dict[str, Any], purposes: list[str]) -> None:
    """Section 7: recipients, disclosures and transfers of the period."""
    doc = g.reader.disclosures(**frame)
    rows = [d for d in doc["disclosures"] if g.inside(d["occurred_at"])
            and d["purpose"] in purposes]
    per_purpose = Counter(d["purpose"] for d in rows)
    for p, n in sorted(per_purpose.items()):
        g.figures.add(f"disclosures.{p}", 7, f"DataDisclosed/{p}", n, ["DataDisclosed"],
                      payload={"purpose": p})
    outside = Counter(d["purpose"] for d in rows if d["outside_eea"])
    for p, n in sorted(outside.items()):
        g.figures.add(f"transfers.{p}", 7, f"outside_eea/{p}", n, ["DataDisclosed"],
                      payload={"purpose": p, "outside_eea": True})
    g.sections["disclosures"] = {"count": len(rows), "outside_eea": sum(outside.values()),
                                 "per_recipient": sorted(Counter(
                                     d["recipient"] for d in rows).items()),
                                 "rows": g.cite([g.who(d) for d in rows], "disclosures")}


def _accesses(g: Gathered) -> None:
    """Section 8: who read personal data (the access register) in the period."""
    doc = g.reader.accesses(start=g.scope.start, end=g.scope.end, known_at=g.scope.known_at)
    rows = doc["accesses"]
    mine = [r for r in rows if r["subject"] in g.in_scope] if g.in_scope else rows
    count = g.figures.add("accesses", 8, "PersonalDataAccessed", len(rows),
                          ["PersonalDataAccessed"])
    g.sections["accesses"] = {"count": count,
                              "rows": g.cite([g.who(r) for r in mine], "accesses"),
                              "per_actor": sorted(Counter(r["actor"] for r in rows).items())}
