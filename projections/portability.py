"""portability: a subject's export (GDPR Art. 15 and 20), JSON or CSV files in a zip.

Built from the subject's own stream, read through the ledger's per-subject
index (never a scan of the ledger), decrypted where the keys allow.  A value
whose key was destroyed (erasure, anonymisation) is exported as ``null`` and
the item says ``"erased": true``: the export of an erased subject says so and
holds no personal value.  Every item cites the ``seq`` and ``hash`` of the
entry it rests on; ``head`` gives the ledger head the export was made at, so
the items can be checked with ``ledger verify`` and ``ledger show SEQ``.

Schema (``format: "ledger-export/1"``): see docs/PROJECTIONS.md.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from ledger.app.application import ERASED
from ledger.domain.state import CHOICE_STATES

from .consent import fold_consents
from .timeframe import Timeframe

__all__ = ["FORMAT", "export_subject", "export_zip"]

FORMAT = "ledger-export/1"


def _clean(value: Any, erased: str) -> tuple[Any, bool]:
    """``value`` with every erased marker replaced by None, and whether one was found."""
    if isinstance(value, dict):
        out, found = {}, False
        for k, v in value.items():
            out[k], f = _clean(v, erased)
            found = found or f
        return out, found
    if value == erased:
        return None, True
    return value, False


def export_subject(ledger: Any, subject: str, *, generated_at: str,
                   frame: Timeframe | None = None) -> dict[str, Any]:
    """The export of one subject (``subject``: identifier or ``pseudonym:<hex>``).

    With a ``frame``, only the entries it admits (occurred by ``frame.at``,
    recorded by ``frame.known_at``).  Values erased since cannot come back: an
    export about the past of an erased subject holds no personal value either.
    """
    pseudonym = ledger.pseudonym(subject)
    head_seq, head_hash = ledger.head()
    entries = list(ledger.log(f"pseudonym:{pseudonym}"))
    if frame is not None:
        entries = [e for e in entries if frame.admits(e["occurred_at"], e["recorded_at"])]
    sections = _Sections()
    for e in entries:
        sections.add(e)
    erased = sections.any_erased or any(x["type"] == "SubjectErased"
                                        for x in sections.erasures)
    return {
        "format": FORMAT, "ledger": ledger.name, "subject": pseudonym,
        "generated_at": generated_at, "head": {"seq": head_seq, "hash": head_hash},
        "as_of": frame.as_of if frame else None, "known_at": frame.known_at if frame else None,
        "erased": erased,
        "note": ("Some or all personal values were erased (their keys destroyed): they are "
                 "null here and cannot be recovered." if erased else None),
        "erasures": sections.erasures, "consents": _consents(sections.history),
        "collections": list(sections.collections.values()),
        "requests": list(sections.requests.values()), "disclosures": sections.disclosures,
        "other_events": sections.other, "events": sections.events,
    }


@dataclass
class _Sections:
    """The export's sections, filled entry by entry in ledger order; every item cites the
    ``seq`` and ``hash`` of its entry."""

    events: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)  # consent choices
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)  # by event_id
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)  # by request_id
    disclosures: list[dict[str, Any]] = field(default_factory=list)
    erasures: list[dict[str, Any]] = field(default_factory=list)
    other: list[dict[str, Any]] = field(default_factory=list)
    any_erased: bool = False

    def add(self, e: dict[str, Any]) -> None:
        data, erased = _clean(e["data"], ERASED)
        self.any_erased = self.any_erased or erased
        cite = {"seq": e["seq"], "hash": e["hash"]}
        t = e["type"]
        self.events.append({"type": t, "occurred_at": e["occurred_at"],
                            "recorded_at": e["recorded_at"], "actor": e["actor"],
                            "data": data, "erased_values": erased, **cite})
        if t in CHOICE_STATES:
            self.history.append({
                "purpose": data["purpose"], "state": CHOICE_STATES[t],
                "occurred_at": e["occurred_at"], "recorded_at": e["recorded_at"],
                "policy_version": data.get("policy_version"), "method": data["method"],
                "evidence": data.get("evidence"), **cite})
        elif t == "DataCollected":
            self.collections[e["event_id"]] = {
                "collection_id": e["event_id"], "category": data["category"],
                "purpose": data["purpose"], "source": data["source"],
                "collected_at": e["occurred_at"], "policy_version": data.get("policy_version"),
                "values": data["values"], "erased": erased, "rectifications": [], **cite}
        elif t == "DataRectified" and data["collection_id"] in self.collections:
            self._rectify(self.collections[data["collection_id"]], e, data, erased, cite)
        elif t.startswith("RightsRequest"):
            self._request(t, e, data, cite)
        elif t == "DataDisclosed":
            self.disclosures.append({
                "recipient": data["recipient"], "recipient_kind": data["recipient_kind"],
                "country": data["country"], "categories": data["categories"],
                "purpose": data["purpose"], "outside_eea": data.get("outside_eea"),
                "safeguard": data.get("safeguard"), "occurred_at": e["occurred_at"], **cite})
        elif t in ("SubjectErased", "DataAnonymised"):
            self.erasures.append({"type": t, "occurred_at": e["occurred_at"],
                                  "ground": data.get("ground"),
                                  "categories": data.get("categories"), **cite})
        else:
            self.other.append({"type": t, "occurred_at": e["occurred_at"], "data": data,
                               **cite})

    @staticmethod
    def _rectify(collection: dict[str, Any], e: dict[str, Any], data: dict[str, Any],
                 erased: bool, cite: dict[str, Any]) -> None:
        """A rectification is listed under its collection, whose values it updates (unless
        its own values were erased)."""
        collection["rectifications"].append({"occurred_at": e["occurred_at"],
                                             "values": data["values"], "erased": erased,
                                             **cite})
        if not erased:
            collection["values"] = {**(collection["values"] or {}), **data["values"]}

    def _request(self, t: str, e: dict[str, Any], data: dict[str, Any],
                 cite: dict[str, Any]) -> None:
        """A request received, or a later step of one (steps of an unknown request: none)."""
        rid = data["request_id"]
        if t == "RightsRequestReceived":
            self.requests[rid] = {"request_id": rid, "right": data["right"],
                                  "channel": data["channel"], "received_at": e["occurred_at"],
                                  "details": data.get("details"), "steps": [], **cite}
        elif rid in self.requests:
            self.requests[rid]["steps"].append({"type": t, "occurred_at": e["occurred_at"],
                                                "reason": data.get("reason"),
                                                "summary": data.get("summary"), **cite})


def _consents(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per purpose (sorted): the status the choices fold to, and the choices themselves."""
    best = fold_consents(history)
    consents = []
    for purpose in sorted({h["purpose"] for h in history}):
        h = best[purpose]
        consents.append({"purpose": purpose, "status": h["state"], "since": h["occurred_at"],
                         "policy_version": h["policy_version"], "seq": h["seq"],
                         "hash": h["hash"],
                         "history": [x for x in history if x["purpose"] == purpose]})
    return consents


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return buf.getvalue()


def export_tables(doc: dict[str, Any]) -> dict[str, str]:
    """The export as CSV texts, one per table (file name → text)."""
    cite = ["seq", "hash"]
    values = [{"collection_id": c["collection_id"], "category": c["category"],
               "field": k, "value": v, "erased": c["erased"], "seq": c["seq"],
               "hash": c["hash"]}
              for c in doc["collections"] for k, v in sorted((c["values"] or {}).items())]
    return {
        "export.csv": _csv([{"key": k, "value": doc[k]} for k in (
            "format", "ledger", "subject", "generated_at", "head", "erased", "note")],
            ["key", "value"]),
        "consents.csv": _csv(doc["consents"], ["purpose", "status", "since", "policy_version",
                                               *cite]),
        "consent_history.csv": _csv([h for c in doc["consents"] for h in c["history"]], [
            "purpose", "state", "occurred_at", "recorded_at", "policy_version", "method",
            "evidence", *cite]),
        "collections.csv": _csv(doc["collections"], [
            "collection_id", "category", "purpose", "source", "collected_at",
            "policy_version", "erased", *cite]),
        "collected_values.csv": _csv(values, ["collection_id", "category", "field", "value",
                                              "erased", *cite]),
        "requests.csv": _csv(doc["requests"], ["request_id", "right", "channel",
                                               "received_at", "details", "steps", *cite]),
        "disclosures.csv": _csv(doc["disclosures"], [
            "recipient", "recipient_kind", "country", "categories", "purpose", "outside_eea",
            "safeguard", "occurred_at", *cite]),
        "erasures.csv": _csv(doc["erasures"], ["type", "occurred_at", "ground", "categories",
                                               *cite]),
        "events.csv": _csv(doc["events"], ["type", "occurred_at", "recorded_at", "actor",
                                           "data", "erased_values", *cite]),
    }


def export_zip(doc: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in export_tables(doc).items():
            z.writestr(name, text.encode("utf-8"))
    return buf.getvalue()
