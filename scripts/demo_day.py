#!/usr/bin/env python3
"""Write one realistic day at XP² cloud as JSON Lines, for ``scripts/demo``.

Usage: ``python scripts/demo_day.py OUT_DIR`` writes

* ``OUT_DIR/day.jsonl``: Tuesday 3 March 2026 (Paris time, +01:00), in
  chronological order; every line must be accepted by a ledger on which the
  bundled XP² cloud policy is published;
* ``OUT_DIR/refused.jsonl``: lines that the ledger must refuse, one per rule
  shown, each on its own (the field the error must name is in ``REFUSED``).

Every event has a fixed ``event_id`` (UUIDv5 of a readable name), so that
appending the same file twice records it once.  The people are fictional:
``example.fr``/``example.com`` addresses and phone numbers of the ranges
that ARCEP keeps for fiction.
"""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

DAY = "2026-03-03"
NAMESPACE = uuid.UUID("3c0d5f0e-2b1a-5e7c-9a44-0d2e6f1b7a90")

# -- the cast -----------------------------------------------------------------------
VISITOR_ALL = "visitor:7f3a9c2e-5b1d-4e8a-9f06-2c4d8b1a3e57"      # accepts everything
VISITOR_NONE = "visitor:b41d0e77-93c2-4f5a-8e1b-6a0f2d9c4b18"     # refuses everything
VISITOR_PARTIAL = "visitor:e09c5a13-7d4b-4c2e-a8f1-95b3c6d07e24"  # functional + audience
VISITOR_AUDIENCE = "visitor:52c8e1fa-0b6d-4a3f-9e27-d14a8b7f3c60"  # audience only
CANDIDATE = "camille.durand@example.fr"
CANDIDATE_NAME = ("Camille", "Durand")
CONTACT = "julien.moreau@example.com"
CUSTOMER = "sophie.bernard@example.fr"
ERASURE_REQUEST = "DPO-2026-0031"
ACCESS_REQUEST = "DPO-2026-0030"
HOLD = "HOLD-2026-004"
BREACH = "BRK-2026-0303-01"
MINOR_BREACH = "BRK-2026-0303-02"

COOKIE_PURPOSES = ("cookies_functional", "cookies_audience", "cookies_advertising",
                   "cookies_social_networks")
BANNER_TEXT = ("Nous utilisons des cookies pour mesurer l'audience du site, mémoriser vos "
               "préférences et vous proposer des publicités adaptées. Vous pouvez accepter, "
               "refuser ou personnaliser vos choix à tout moment.")
CONSENT_TEXT = ("J'accepte que XP² cloud traite les données de ma candidature pour gérer "
                "le recrutement et les conserve deux ans au plus.")

BREACH_ART33 = {
    "categories_of_subjects": ["job_applicants"],
    "approx_subjects": 37,
    "categories_of_records": ["identification_contact", "application"],
    "approx_records": 74,
    "dpo_contact": "data@xp2cloud.com - XP2 CLOUD, 5 place de la Pyramide, 92800 Puteaux",
    "likely_consequences": "Applicants' names, contact details and CVs may be used for "
                           "phishing or identity fraud.",
    "measures": "Bucket made private at 08:55, download links revoked, access logs kept, "
                "deployment check added so that buckets can no longer be made public; "
                "applicants informed by email.",
}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def event(name: str, type_: str, time: str, data: dict[str, Any], *,
          subject: str | None = None, actor: str, day: str = DAY) -> dict[str, Any]:
    """One event; ``name`` gives its fixed event_id, ``time`` is HH:MM[:SS] in Paris."""
    if time.count(":") == 1:
        time += ":00"
    raw: dict[str, Any] = {"event_id": str(uuid.uuid5(NAMESPACE, name)), "type": type_}
    if subject is not None:
        raw["subject"] = subject
    raw.update({"occurred_at": f"{day}T{time}+01:00", "actor": actor, "data": data})
    return raw


def banner(tag: str, visitor: str, time: str, accepted: tuple[str, ...]) -> list[dict[str, Any]]:
    """A cookie banner choice: one ConsentGiven or ConsentRefused per cookie purpose,
    then the strictly necessary cookie that remembers the choice."""
    out = []
    for purpose in COOKIE_PURPOSES:
        if purpose in accepted:
            data = {"purpose": purpose, "method": "banner",
                    "evidence": {"banner": "cookie-banner v4.2",
                                 "text_sha256": _sha256(BANNER_TEXT),
                                 "button": "accept_all" if len(accepted) == 4
                                 else "save_choices"}}
            out.append(event(f"{tag}/consent/{purpose}", "ConsentGiven", time, data,
                             subject=visitor, actor="web:cookie-banner"))
        else:
            out.append(event(f"{tag}/refusal/{purpose}", "ConsentRefused", time,
                             {"purpose": purpose, "method": "banner"},
                             subject=visitor, actor="web:cookie-banner"))
    choices = {p.removeprefix("cookies_"): p in accepted for p in COOKIE_PURPOSES}
    out.append(collect(f"{tag}/necessary", visitor, time,
                       category="tracker_strictly_necessary",
                       purpose="cookies_strictly_necessary", source="cookie",
                       values={"session_id": f"s-{_sha256(tag)[:20]}",
                               "cookie_choices": choices}))
    return out


def collect(name: str, subject: str, time: str, *, category: str, purpose: str, source: str,
            values: dict[str, Any], actor: str = "web:tag-manager") -> dict[str, Any]:
    return event(name, "DataCollected", time,
                 {"category": category, "purpose": purpose, "source": source,
                  "values": values}, subject=subject, actor=actor)


def audience(tag: str, visitor: str, time: str, visits: int, path: list[str]) -> dict[str, Any]:
    return collect(f"{tag}/audience", visitor, time, category="tracker_audience",
                   purpose="cookies_audience", source="cookie",
                   values={"visitor_id": visitor.removeprefix("visitor:")[:8],
                           "visit_count": visits, "navigation_path": path})


def blocks() -> list[tuple[str, list[dict[str, Any]]]]:
    """The day as (caption, events) blocks, in chronological order."""
    first, last = CANDIDATE_NAME
    out: list[tuple[str, list[dict[str, Any]]]] = []

    def add(caption: str, *events: dict[str, Any] | list[dict[str, Any]]) -> None:
        flat: list[dict[str, Any]] = []
        for e in events:
            flat.extend(e if isinstance(e, list) else [e])
        out.append((caption, flat))

    add("08:12  a returning visitor accepts every cookie; trackers are set",
        banner("v1", VISITOR_ALL, "08:12:31", COOKIE_PURPOSES),
        collect("v1/functional", VISITOR_ALL, "08:12:32", category="tracker_functional",
                purpose="cookies_functional", source="cookie",
                values={"preferences": {"langue": "fr", "theme": "sombre"}}),
        audience("v1", VISITOR_ALL, "08:14:05", 3,
                 ["/", "/offres/cloud-prive", "/offres/infogerance", "/carrieres"]),
        collect("v1/advertising", VISITOR_ALL, "08:14:06", category="tracker_advertising",
                purpose="cookies_advertising", source="cookie",
                values={"advertising_id": "ad-4e91c07b",
                        "interests": ["cloud souverain", "infogérance"],
                        "campaign_id": "LI-2026-Q1-SOUVERAIN"}))

    add(f"08:47  breach {BREACH}: the applicants' CV bucket was public (72-hour clock starts)",
        event("breach-1/detected", "BreachDetected", "09:02", {
            "breach_id": BREACH, "discovered_at": f"{DAY}T08:47:00+01:00",
            "nature": ["confidentiality"], "risk": "high_risk",
            "description": "A deployment on 2 March at 18:30 made the object-storage bucket "
                           "holding applicants' CVs publicly listable; access logs show "
                           "downloads from two unknown IP addresses. Closed at 08:55.",
            **BREACH_ART33}, actor="secops:xp2cloud"))

    add(f"09:05  Sophie Bernard, a customer, asks for a copy of her data ({ACCESS_REQUEST})",
        event("sophie/access-request", "RightsRequestReceived", "09:05", {
            "request_id": ACCESS_REQUEST, "right": "access", "channel": "email",
            "details": "Bonjour, en application de l'article 15 du RGPD, je souhaite "
                       "recevoir une copie de toutes les données me concernant. "
                       "Sophie Bernard"}, subject=CUSTOMER, actor="dpo:xp2cloud"),
        collect("sophie/contact", CUSTOMER, "09:06", category="identification_contact",
                purpose="rights_requests", source="subject",
                values={"first_name": "Sophie", "last_name": "Bernard", "email": CUSTOMER,
                        "postal_address": "12 rue des Lilas, 69003 Lyon"},
                actor="dpo:xp2cloud"))

    add("09:26  a visitor refuses every cookie: only the strictly necessary one is set",
        banner("v2", VISITOR_NONE, "09:26:10", ()))

    add("09:41  Julien Moreau sends the contact form; the sales team receives it",
        collect("julien/contact", CONTACT, "09:41", category="identification_contact",
                purpose="contact_requests", source="subject",
                values={"first_name": "Julien", "last_name": "Moreau", "email": CONTACT,
                        "phone": "+33 1 99 00 27 14"}, actor="web:contact-form"),
        event("julien/to-sales", "DataDisclosed", "09:42", {
            "recipient": "sales_team", "recipient_kind": "internal", "country": "FR",
            "categories": ["identification_contact"], "purpose": "contact_requests"},
            subject=CONTACT, actor="web:contact-form"))

    add("10:12  Camille Durand applies for a DevOps job (consent, contact, CV; to the host)",
        event("camille/consent", "ConsentGiven", "10:12:41", {
            "purpose": "recruitment", "method": "form",
            "evidence": {"form": "xp2cloud.com/carrieres/postuler",
                         "checkbox_text_sha256": _sha256(CONSENT_TEXT),
                         "submission": "APP-2026-0188"}},
            subject=CANDIDATE, actor="web:careers-form"),
        collect("camille/contact", CANDIDATE, "10:12:42", category="identification_contact",
                purpose="recruitment", source="subject",
                values={"first_name": first, "last_name": last, "email": CANDIDATE,
                        "phone": "+33 6 39 98 42 17"}, actor="web:careers-form"),
        collect("camille/application", CANDIDATE, "10:12:42", category="application",
                purpose="recruitment", source="subject",
                values={"position": "Ingénieur·e Cloud DevOps (CDI, Puteaux), "
                                    "réf. XP2-DEVOPS-04",
                        "cv": f"CV_{first}_{last}_2026.pdf",
                        "cover_letter": f"Lettre_de_motivation_{first}_{last}.pdf"},
                actor="web:careers-form"),
        event("camille/to-hosting", "DataDisclosed", "10:12:43", {
            "recipient": "hosting", "recipient_kind": "processor", "country": "FR",
            "categories": ["identification_contact", "application"],
            "purpose": "recruitment"}, subject=CANDIDATE, actor="web:careers-form"))

    add("11:04  a visitor keeps functional and audience cookies, refuses the others",
        banner("v3", VISITOR_PARTIAL, "11:04:52", ("cookies_functional", "cookies_audience")),
        collect("v3/functional", VISITOR_PARTIAL, "11:04:53", category="tracker_functional",
                purpose="cookies_functional", source="cookie",
                values={"preferences": {"langue": "en"}}),
        audience("v3", VISITOR_PARTIAL, "11:07:20", 1, ["/en", "/en/offers", "/en/contact"]))

    add("11:30  the hiring manager reviews Camille's application",
        event("camille/to-management", "DataDisclosed", "11:30", {
            "recipient": "management", "recipient_kind": "internal", "country": "FR",
            "categories": ["identification_contact", "application"],
            "purpose": "recruitment"}, subject=CANDIDATE, actor="rh:recrutement"))

    add(f"13:40  breach {MINOR_BREACH}: contact form down 25 min, no risk (not notified)",
        event("breach-2/detected", "BreachDetected", "13:40", {
            "breach_id": MINOR_BREACH, "nature": ["availability"], "risk": "unlikely",
            "description": "The contact form was unavailable for 25 minutes during a "
                           "database failover; no data was lost or disclosed."},
            actor="secops:xp2cloud"))

    add(f"14:30  Sophie's lawyer sends a formal notice: legal hold {HOLD}",
        event("sophie/hold", "LegalHoldPlaced", "14:30", {
            "hold_id": HOLD, "basis": "pre_litigation", "matter": "LITIGE-2026-011"},
            subject=CUSTOMER, actor="juridique:xp2cloud"))

    add("15:32  the 08:12 visitor withdraws consent to advertising cookies",
        event("v1/withdrawal", "ConsentWithdrawn", "15:32:18", {
            "purpose": "cookies_advertising", "method": "settings"},
            subject=VISITOR_ALL, actor="web:cookie-banner"))

    add("16:05  a visitor on a phone accepts audience measurement only",
        banner("v4", VISITOR_AUDIENCE, "16:05:40", ("cookies_audience",)),
        audience("v4", VISITOR_AUDIENCE, "16:06:02", 2, ["/", "/blog/cloud-souverain-2026"]))

    add(f"16:20  the CNIL is notified of {BREACH}, 7½ hours after discovery",
        event("breach-1/notified", "BreachNotified", "16:20", {
            "breach_id": BREACH, "authority": "CNIL", "reference": "CNIL-NOTIF-2026-0412",
            **BREACH_ART33}, actor="dpo:xp2cloud"))

    add(f"16:45  Sophie's access request {ACCESS_REQUEST} is answered",
        event("sophie/access-answered", "RightsRequestFulfilled", "16:45", {
            "request_id": ACCESS_REQUEST,
            "summary": "Copy of the data sent as an encrypted PDF by email."},
            subject=CUSTOMER, actor="dpo:xp2cloud"))

    add("17:30  the 37 applicants are told about the breach (Art. 34: high risk)",
        event("breach-1/communicated", "BreachCommunicated", "17:30", {
            "breach_id": BREACH, "method": "individual"}, actor="dpo:xp2cloud"))

    add(f"17:52  Camille withdraws her application and asks for erasure ({ERASURE_REQUEST})",
        event("camille/withdrawal", "ConsentWithdrawn", "17:52", {
            "purpose": "recruitment", "method": "email"},
            subject=CANDIDATE, actor="dpo:xp2cloud"),
        event("camille/erasure-request", "RightsRequestReceived", "17:52", {
            "request_id": ERASURE_REQUEST, "right": "erasure", "channel": "email",
            "details": f"Bonjour, j'ai accepté une autre offre. Merci de retirer ma "
                       f"candidature et d'effacer mes données. {first} {last}"},
            subject=CANDIDATE, actor="dpo:xp2cloud"))

    add("18:20  the DPO erases Camille (her data keys are destroyed) and closes the request",
        event("camille/erased", "SubjectErased", "18:20", {
            "ground": "consent_withdrawn", "request_id": ERASURE_REQUEST},
            subject=CANDIDATE, actor="dpo:xp2cloud"),
        event("camille/erasure-done", "RightsRequestFulfilled", "18:21", {
            "request_id": ERASURE_REQUEST,
            "summary": "Application and contact data erased (keys destroyed); "
                       "confirmation sent by email."},
            subject=CANDIDATE, actor="dpo:xp2cloud"))
    return out


def day() -> list[dict[str, Any]]:
    """The events of the day, in chronological order."""
    return [e for _, events in blocks() for e in events]


# (field the error must name, what the line tries, the line)
REFUSED: list[tuple[str, str, dict[str, Any]]] = [
    ("data.purpose",
     "audience tracking for the visitor who refused every cookie at 09:26",
     audience("refused/v2", VISITOR_NONE, "09:27:02", 1, ["/", "/offres"])),
    ("data.reason_for_delay",
     "notifying the 13:40 breach to the CNIL six days later, without a reason for the delay",
     event("refused/breach-2/notified", "BreachNotified", "10:00", {
         "breach_id": MINOR_BREACH, "authority": "CNIL"},
         actor="dpo:xp2cloud", day="2026-03-09")),
    ("subject",
     "erasing Sophie Bernard while her legal hold is active",
     event("refused/sophie/erased", "SubjectErased", "18:30", {
         "ground": "no_longer_necessary"}, subject=CUSTOMER, actor="dpo:xp2cloud")),
]


def _write(path: Path, events: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for e in events:
            f.write(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n")


def main(argv: list[str]) -> int:
    verbose = "--timeline" in argv
    args = [a for a in argv if a != "--timeline"]
    if len(args) != 1:
        print("usage: demo_day.py [--timeline] OUT_DIR", file=sys.stderr)
        return 2
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    events = day()
    times = [e["occurred_at"] for e in events]
    if times != sorted(times):
        raise SystemExit("demo_day.py: the day is not in chronological order")
    _write(out / "day.jsonl", events)
    _write(out / "refused.jsonl", [line for _, _, line in REFUSED])
    with (out / "refused.txt").open("w", encoding="utf-8") as f:
        for field_, why, _ in REFUSED:
            f.write(f"{field_}\t{why}\n")
    if verbose:
        for caption, evs in blocks():
            print(f"  {caption} [{len(evs)}]")
    print(f"wrote {len(events)} events to {out / 'day.jsonl'}, {len(REFUSED)} to be refused "
          f"to {out / 'refused.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
