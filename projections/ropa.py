"""ropa: the record of processing activities (GDPR Art. 30(1)) from the policy in force.

Everything declarative (controller, purposes, legal bases, categories of
subjects and data, recipients, transfers, retention, security measures)
comes from the policy in force at ``at``; beside it, what the ledger saw per
purpose: consent choices, collections and the subjects they concern,
disclosures, and the recipients and countries actually disclosed to — only
the events the :class:`~projections.timeframe.Timeframe` admits (occurred by
``at``, recorded by ``known_at``), and the policies known then.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, func, select

from ledger.cli.format import plural
from ledger.domain.periods import DEFAULT_TIME_ZONE, human_time
from ledger.domain.policy_book import PolicyBook
from ledger.errors import InputError

from . import db
from .timeframe import Timeframe

__all__ = ["ropa", "ropa_markdown"]


def _counts(conn: Connection, ledger_id: str, frame: Timeframe) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "consents_granted": 0, "consents_refused": 0, "consents_withdrawn": 0,
        "collections": 0, "subjects_collected": 0, "categories_collected": [],
        "disclosures": 0, "recipients_disclosed_to": []})
    ch, ri, d = db.consent_history, db.retention_items, db.disclosures
    items = frame.where(ri.c.collected_at, ri.c.recorded_at)
    for purpose, state, n in conn.execute(
            select(ch.c.purpose, ch.c.state, func.count()).where(
                ch.c.ledger_id == ledger_id, frame.where(ch.c.occurred_at, ch.c.recorded_at))
            .group_by(ch.c.purpose, ch.c.state)):
        seen[purpose][f"consents_{state}"] = n
    for purpose, n, subjects in conn.execute(
            select(ri.c.purpose, func.count(), func.count(ri.c.subject.distinct()))
            .where(ri.c.ledger_id == ledger_id, items).group_by(ri.c.purpose)):
        seen[purpose]["collections"] = n
        seen[purpose]["subjects_collected"] = subjects
    for purpose, category in conn.execute(
            select(ri.c.purpose, ri.c.category).where(ri.c.ledger_id == ledger_id, items)
            .group_by(ri.c.purpose, ri.c.category).order_by(ri.c.category)):
        seen[purpose]["categories_collected"].append(category)
    for purpose, recipient, n in conn.execute(
            select(d.c.purpose, d.c.recipient, func.count()).where(
                d.c.ledger_id == ledger_id, frame.where(d.c.occurred_at, d.c.recorded_at))
            .group_by(d.c.purpose, d.c.recipient).order_by(d.c.recipient)):
        seen[purpose]["disclosures"] += n
        seen[purpose]["recipients_disclosed_to"].append(recipient)
    return seen


def ropa(conn: Connection, ledger_id: str, policies: PolicyBook, *,
         frame: Timeframe) -> dict[str, Any]:
    """The JSON answer of ``ledger ropa`` (``policies``: those known at ``frame.known_at``)."""
    at = frame.at
    policy = policies.in_force(at)
    if policy is None:
        raise InputError("--as-of", "no policy was in force then: publish one first "
                                    "(ledger policy publish)")
    seen = _counts(conn, ledger_id, frame)
    d = db.disclosures
    recipients_seen: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"disclosures": 0, "countries": set(), "outside_eea": 0})
    for recipient, country, outside, n in conn.execute(
            select(d.c.recipient, d.c.country, d.c.outside_eea, func.count())
            .where(d.c.ledger_id == ledger_id, frame.where(d.c.occurred_at, d.c.recorded_at))
            .group_by(d.c.recipient, d.c.country, d.c.outside_eea)):
        r = recipients_seen[recipient]
        r["disclosures"] += n
        r["countries"].add(country)
        r["outside_eea"] += n if outside else 0
    doc: dict[str, Any] = policy.to_json()
    categories = {c["id"]: c for c in doc["categories"]}
    purposes = []
    for p in doc["purposes"]:
        retention = {c: _retention(policy, p["id"], c) for c in p["categories"]}
        purposes.append({
            "id": p["id"], "name": p["name"], "description": p["description"],
            "legal_basis": p["legal_basis"], "consent_required": p["consent_required"],
            "data_categories": [{"id": c, "name": categories[c]["name"],
                                 "retention": retention[c]} for c in p["categories"]],
            "recipients": [r["id"] for r in doc["recipients"] if p["id"] in r["purposes"]],
            "seen": seen.get(p["id"], _empty()),
        })
    undeclared = sorted(set(seen) - {p["id"] for p in doc["purposes"]})
    return {
        **frame.to_json(), "policy": {"id": doc["id"], "version": doc["version"],
                             "effective_at": doc["effective_at"], "url": doc["url"],
                             "time_zone": doc["time_zone"]},
        "controller": doc["controller"], "dpo_email": doc["dpo_email"],
        "subject_categories": doc["subject_categories"],
        "purposes": purposes,
        "purposes_seen_not_in_policy": [{"id": p, "seen": seen[p]} for p in undeclared],
        "recipients": [{**r, "seen": _recipient_seen(recipients_seen.get(r["id"]))}
                       for r in doc["recipients"]],
        "recipients_seen_not_in_policy": [
            {"id": r, "seen": _recipient_seen(v)} for r, v in sorted(recipients_seen.items())
            if policy.recipient(r) is None],
        "transfers": doc["transfers"],
        "transfers_seen": sum(v["outside_eea"] for v in recipients_seen.values()),
        "retention": {c["id"]: c["retention"] for c in doc["categories"]},
        "security_measures": doc["security_measures"],
    }


def _empty() -> dict[str, Any]:
    return {"consents_granted": 0, "consents_refused": 0, "consents_withdrawn": 0,
            "collections": 0, "subjects_collected": 0, "categories_collected": [],
            "disclosures": 0, "recipients_disclosed_to": []}


def _recipient_seen(v: dict[str, Any] | None) -> dict[str, Any]:
    if v is None:
        return {"disclosures": 0, "countries": [], "outside_eea": 0}
    return {"disclosures": v["disclosures"], "countries": sorted(v["countries"]),
            "outside_eea": v["outside_eea"]}


def _retention(policy: Any, purpose: str, category: str) -> str | None:
    p, c = policy.purpose(purpose), policy.category(category)
    periods = [x for x in (p.retention if p else None, c.retention if c else None) if x]
    return " / ".join(periods) if periods else None


def ropa_markdown(doc: dict[str, Any]) -> str:
    """The record for people: times in the policy's time zone (the JSON keeps UTC)."""
    c = doc["controller"]
    zone = doc["policy"].get("time_zone") or DEFAULT_TIME_ZONE
    lines = ["# Record of processing activities (GDPR Art. 30(1))", "",
             f"Policy {doc['policy']['id']} version {doc['policy']['version']}, in force "
             f"from {human_time(doc['policy']['effective_at'], zone)}; record made at "
             f"{human_time(doc['at'], zone)} (times in {zone}).", "",
             "## Controller", "", f"{c['name']}, {c['address']} — {c['email']} — {c['url']}",
             f"Data protection contact: {doc['dpo_email']}", "",
             "## Categories of data subjects", "",
             *(f"- {s}" for s in doc["subject_categories"]), "",
             "## Purposes", ""]
    for p in doc["purposes"]:
        s = p["seen"]
        lines += [f"### {p['name']} (`{p['id']}`)", "", p["description"], "",
                  f"- legal basis: {p['legal_basis']}",
                  "- data categories (retention): " + ", ".join(
                      f"{x['id']} ({x['retention'] or 'not set'})"
                      for x in p["data_categories"]),
                  f"- recipients: {', '.join(p['recipients']) or 'none'}",
                  f"- seen in the ledger: {plural(s['consents_granted'], 'consent')} given, "
                  f"{s['consents_refused']} refused, {s['consents_withdrawn']} withdrawn; "
                  f"{plural(s['collections'], 'collection')} from "
                  f"{plural(s['subjects_collected'], 'subject')}; "
                  f"{plural(s['disclosures'], 'disclosure')}", ""]
    lines += ["## Recipients", "", "| id | kind | country | disclosures seen |",
              "| --- | --- | --- | --- |"]
    lines += [f"| {r['id']} | {r['kind']} | {r['country']} | {r['seen']['disclosures']} |"
              for r in doc["recipients"]]
    for r in doc["recipients_seen_not_in_policy"]:
        lines.append(f"| {r['id']} (not in the policy) | | "
                     f"{', '.join(r['seen']['countries'])} | {r['seen']['disclosures']} |")
    lines += ["", "## Transfers outside the EEA", ""]
    lines += [f"- {t['recipient']} ({t['country']}): {t['safeguard']}"
              for t in doc["transfers"]] or ["- none declared"]
    lines.append(f"- disclosures outside the EEA seen in the ledger: {doc['transfers_seen']}")
    lines += ["", "## Retention by data category", ""]
    lines += [f"- {k}: {v or 'set by purpose'}" for k, v in doc["retention"].items()]
    lines += ["", "## Security measures (Art. 32)", ""]
    lines += [f"- {m}" for m in doc["security_measures"]]
    return "\n".join(lines) + "\n"

