"""The summaries a receipt carries (docs/FORMAT.md §13), derived from the entry alone.

A receipt's top-level members are derived from the entry and from the
``PolicyPublished`` entry it cites; :mod:`ledger.trust.receipt_check` recomputes them
with the functions here and rejects any difference, so this module is pure
(stdlib only) and deterministic.

Three profiles:

* ``kantara`` — the Kantara Initiative Consent Receipt Specification v1.1.0
  (KI-CR-v1.1.0, 2018-02-20): only its member names, only with the types and
  meanings it gives them; members the ledger cannot derive are left out (the
  list, with reasons, is in docs/FORMAT.md §13).  Only for entries about a data
  subject.
* ``iso27560`` — a consent record after ISO/IEC TS 27560:2023 expressed with the
  W3C Data Privacy Vocabulary, as in the DPV guide "Consent Records and Receipts
  as per ISO/IEC TS 27560:2023 using DPV" (JSON-LD).  Only for consent events.
* ``legacy`` — format ``ledger-receipt/1`` (before the two above), kept so that
  receipts already handed out keep verifying; never written any more.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["CONSENT_EVENTS", "FORMAT", "LEGACY_VERSION", "PROFILES", "NotReceiptable",
           "legacy_summary", "postal_address"]

FORMAT = "ledger-receipt/2"           # the evidence's format, under "ledger"
LEGACY_VERSION = "ledger-receipt/1"   # receipts written before FORMAT
KANTARA_VERSION = "KI-CR-v1.1.0"
CONSENT_EVENTS = ("ConsentGiven", "ConsentRefused", "ConsentWithdrawn")

#: ISO/IEC TS 27560 consent state (event_state) of each consent event, as DPV IRIs.
_DPV_STATUS = {"ConsentGiven": "dpv:ConsentGiven", "ConsentRefused": "dpv:ConsentRefused",
               "ConsentWithdrawn": "dpv:ConsentWithdrawn"}
#: The policy's legal bases as DPV EU-GDPR IRIs (the same as ledger.domain.policy.LEGAL_BASES).
_DPV_LEGAL_BASIS = {"consent": "eu-gdpr:A6-1-a", "contract": "eu-gdpr:A6-1-b",
                    "legal_obligation": "eu-gdpr:A6-1-c", "vital_interests": "eu-gdpr:A6-1-d",
                    "public_task": "eu-gdpr:A6-1-e", "legitimate_interests": "eu-gdpr:A6-1-f"}
_DPV_CONTEXT = {"dpv": "https://w3id.org/dpv#", "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
                "dct": "http://purl.org/dc/terms/", "schema": "https://schema.org/"}
_DPV_PROFILE = "https://w3id.org/dpv/schema/dpv-27560#record"


class NotReceiptable(ValueError):
    """This profile cannot describe this entry (the message says why)."""


def _epoch(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
               .timestamp())


def _list(payload: dict[str, Any], one: str, many: str) -> list[Any]:
    if isinstance(payload.get(many), list):
        return list(payload[many])
    return [payload[one]] if isinstance(payload.get(one), str) else []


# -- the one-line controller address as a schema.org PostalAddress ------------------------
_POSTCODE_LOCALITY = re.compile(r"([0-9]{4,5}(?: [A-Z]{2})?) +(\S.*)")


def postal_address(line: Any) -> dict[str, str] | None:
    """``"street…, POSTCODE Locality, Country"`` as schema.org PostalAddress members.

    The policy holds the controller's address as one line.  It is split at its
    commas: the last part that reads "postal code, space, locality" gives
    ``postalCode`` and ``addressLocality``, what precedes it ``streetAddress``
    and a single part after it ``addressCountry`` (as the policy writes it).
    ``None`` when the line does not have that shape: nothing is guessed.
    """
    if not isinstance(line, str):
        return None
    parts = [p.strip() for p in line.split(",")]
    at = max((i for i, p in enumerate(parts) if _POSTCODE_LOCALITY.fullmatch(p)), default=-1)
    if at < 1 or len(parts) - at > 2 or not all(parts):
        return None
    match = _POSTCODE_LOCALITY.fullmatch(parts[at])
    assert match is not None  # noqa: S101 - found above
    out = {"streetAddress": ", ".join(parts[:at]), "postalCode": match[1],
           "addressLocality": match[2]}
    if at + 1 < len(parts):
        out["addressCountry"] = parts[at + 1]
    return out


# -- what the policy entry says about a purpose ----------------------------------------------
def _by_id(pol: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    items = pol.get(key)
    return {x["id"]: x for x in items if isinstance(x, dict) and isinstance(x.get("id"), str)} \
        if isinstance(items, list) else {}


def _third_parties(pol: dict[str, Any], purpose: str) -> list[str]:
    """Names of the policy's recipients of kind ``third_party`` (GDPR Art. 4(10): not a
    processor, not the controller's own staff) that receive data for ``purpose``."""
    return [r["name"] for r in _by_id(pol, "recipients").values()
            if r.get("kind") == "third_party" and purpose in (r.get("purposes") or [])]


# -- Kantara Consent Receipt v1.1 ------------------------------------------------------------
def _kantara_service(pol: dict[str, Any], purpose_id: Any,
                     categories: list[Any]) -> dict[str, Any] | None:
    purpose = _by_id(pol, "purposes").get(purpose_id) if isinstance(purpose_id, str) else None
    if purpose is None:
        return None
    cats = _by_id(pol, "categories")
    cited = categories or list(purpose.get("categories") or [])
    names = [cats[c]["name"] if c in cats else c for c in cited]
    third = _third_parties(pol, purpose_id)
    item: dict[str, Any] = {"purpose": purpose["description"], "piiCategory": names,
                            "thirdPartyDisclosure": bool(third)}
    if third:
        item["thirdPartyName"] = "; ".join(third)
    return {"service": purpose["name"], "purposes": [item]}


def kantara_summary(entry: dict[str, Any],
                    policy_entry: dict[str, Any] | None) -> dict[str, Any]:
    """The Kantara CR v1.1 members the entry and its policy entry prove."""
    if entry.get("subject") is None:
        raise NotReceiptable(
            f"{entry['type']} is an organisation-level event with no data subject, and a "
            "Kantara consent receipt requires piiPrincipalId (a non-empty string): prove it "
            "with `ledger prove` or an audit bundle")
    p = entry["payload"]
    out: dict[str, Any] = {"version": KANTARA_VERSION, "eventType": entry["type"],
                           "consentTimestamp": _epoch(entry["occurred_at"])}
    if entry["type"] in CONSENT_EVENTS and isinstance(p.get("method"), str):
        out["collectionMethod"] = p["method"]
    out["consentReceiptID"] = entry["event_id"]
    if policy_entry is not None:
        out["language"] = policy_entry["payload"]["policy"]["language"]
    out["piiPrincipalId"] = f"pseudonym:{entry['subject']}"
    if isinstance(p.get("policy_version"), str):
        out["policyVersion"] = p["policy_version"]
    if policy_entry is None:
        return out
    pol = policy_entry["payload"]["policy"]
    c = pol["controller"]
    controller: dict[str, Any] = {"piiController": c["name"]}
    address = postal_address(c.get("address"))
    if address is not None:
        controller["address"] = address
    controller.update(email=c["email"], piiControllerUrl=c["url"])
    out["piiControllers"] = [controller]
    out["policyUrl"] = pol["url"]
    categories = _list(p, "category", "categories")
    services = [s for s in (_kantara_service(pol, x, categories)
                            for x in _list(p, "purpose", "purposes")) if s is not None]
    if services:
        out["services"] = services
    return out


# -- ISO/IEC TS 27560 consent record with DPV terms -------------------------------------------
def _dpv_process(pol: dict[str, Any] | None, purpose_id: str) -> dict[str, Any]:
    process: dict[str, Any] = {"@type": "dpv:Process", "dct:identifier": purpose_id}
    purpose = _by_id(pol, "purposes").get(purpose_id) if pol is not None else None
    if pol is None or purpose is None:
        return process
    process["dpv:hasPurpose"] = {"@type": "dpv:Purpose", "dct:title": purpose["name"],
                                 "dct:description": purpose["description"]}
    basis = _DPV_LEGAL_BASIS.get(purpose.get("legal_basis", ""))
    if basis is not None:
        process["dpv:hasLegalBasis"] = basis
    cats = _by_id(pol, "categories")
    process["dpv:hasPersonalData"] = [
        {"@type": "dpv:PersonalData", "dct:identifier": c,
         **({"dct:title": cats[c]["name"]} if c in cats else {})}
        for c in purpose.get("categories") or []]
    if isinstance(purpose.get("retention"), str):
        process["dpv:hasStorageCondition"] = {"@type": "dpv:StorageDuration",
                                              "dpv:hasDuration": purpose["retention"]}
    third = _third_parties(pol, purpose_id)
    if third:
        process["dpv:hasRecipient"] = [{"@type": "dpv:ThirdParty", "dpv:hasName": n}
                                       for n in third]
    return process


def iso27560_summary(entry: dict[str, Any],
                     policy_entry: dict[str, Any] | None) -> dict[str, Any]:
    """The ISO/IEC TS 27560 consent record (DPV JSON-LD) the entry and its policy prove."""
    if entry["type"] not in CONSENT_EVENTS or entry.get("subject") is None:
        raise NotReceiptable(
            f"{entry['type']} is not a consent event: an ISO/IEC TS 27560 consent record "
            f"describes {', '.join(CONSENT_EVENTS)}; use --format kantara")
    p = entry["payload"]
    status: dict[str, Any] = {"@type": _DPV_STATUS[entry["type"]],
                              "dpv:isIndicatedAtTime": entry["occurred_at"]}
    if isinstance(p.get("method"), str):
        status["dpv:hasIndicationMethod"] = p["method"]
    out: dict[str, Any] = {
        "@context": _DPV_CONTEXT, "@type": "dpv:ConsentRecord",
        "dct:identifier": entry["event_id"], "dct:conformsTo": _DPV_PROFILE,
        "dpv:hasDataSubject": {"@type": "dpv:DataSubject",
                               "dct:identifier": f"pseudonym:{entry['subject']}"},
    }
    pol = policy_entry["payload"]["policy"] if policy_entry is not None else None
    if pol is not None:
        out["dpv:hasNotice"] = {"@id": pol["url"], "@type": "dpv:PrivacyNotice",
                                "dct:hasVersion": pol["version"],
                                "dct:language": pol["language"]}
        c = pol["controller"]
        controller: dict[str, Any] = {"@type": "dpv:DataController", "dpv:hasName": c["name"]}
        address = postal_address(c.get("address"))
        if address is not None:
            controller["schema:address"] = {"@type": "schema:PostalAddress",
                                            **{f"schema:{k}": v for k, v in address.items()}}
        controller.update({"schema:email": c["email"], "schema:url": c["url"]})
        out["dpv:hasDataController"] = controller
    out["dpv:hasProcess"] = [_dpv_process(pol, x) for x in _list(p, "purpose", "purposes")]
    out["dpv:hasConsentStatus"] = status
    return out


# -- ledger-receipt/1 (receipts already handed out) -------------------------------------------
def legacy_summary(entry: dict[str, Any], policy_entry: dict[str, Any] | None) -> dict[str, Any]:
    """The summary of format ``ledger-receipt/1``, exactly as it was written."""
    p = entry["payload"]
    out: dict[str, Any] = {
        "version": LEGACY_VERSION,
        "consentReceiptID": entry["event_id"],
        "eventType": entry["type"],
        "consentTimestamp": _epoch(entry["occurred_at"]),
        "piiPrincipalId": None if entry["subject"] is None else f"pseudonym:{entry['subject']}",
    }
    if isinstance(p.get("method"), str):
        out["collectionMethod"] = p["method"]
    purposes = _list(p, "purpose", "purposes")
    categories = _list(p, "category", "categories")
    if purposes or categories:
        out["services"] = [{"service": entry["type"], "purposes": [
            {"purpose": x, "piiCategory": categories} for x in purposes or [None]]}]
    if isinstance(p.get("policy_version"), str):
        out["policyVersion"] = p["policy_version"]
    if policy_entry is not None:
        pol = policy_entry["payload"]["policy"]
        c = pol["controller"]
        out["policyUrl"] = pol["url"]
        out["language"] = pol["language"]
        out["piiControllers"] = [{"piiController": c["name"], "address": c["address"],
                                  "email": c["email"], "url": c["url"]}]
    return out


Summary = Callable[[dict[str, Any], dict[str, Any] | None], dict[str, Any]]
#: ``--format`` name → the function deriving its summary.
PROFILES: dict[str, Summary] = {"kantara": kantara_summary, "iso27560": iso27560_summary}
