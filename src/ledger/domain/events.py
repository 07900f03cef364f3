"""The event catalogue, version 1: every event a frozen, typed definition.

An event arrives as untrusted JSON::

    {"event_id"?: UUID, "type": str, "subject"?: str,
     "occurred_at": RFC 3339 with offset, "actor"?: str, "data": {...}}

:func:`parse_unverified_event` checks the envelope and the ``data`` of its
type against the field specs below (each field: its kind, whether it is
required, whether it is personal and so sealed) and returns a
:class:`Draft` whose ``event`` is an instance of the type's dataclass.  Rules
that need the event alone (a guardian below the age threshold, exactly one of
two fields…) live in each class's ``check``; rules that need the policy or the
subject's history live in :mod:`ledger.domain.rules`.  ``docs/events.md`` is the
human version of this module and a test keeps the two in step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# The catalogue is this module; the field checks are in event_fields, the base class and
# the registry in event_registry, the envelope's parsing in event_parse.  Every name this
# module exported before the split is still importable from here.
from ledger.domain.event_fields import (
    CLOCK_SKEW,
    MAX_DEPTH,
    MAX_NOTICE_TEXT,
    MAX_SUBJECT,
    MAX_TEXT,
    MAX_VALUE,
    OUT_OF_RANGE,
    UNKNOWN_KEY,
    FieldSpec,
    parse_rfc3339,
    shown_key,
    spec,
)
from ledger.domain.event_fields import (
    check_text as _check_text,
)
from ledger.domain.event_parse import ENVELOPE, Draft, parse_unverified_event, payload_of, utcnow
from ledger.domain.event_registry import CATALOGUE, Event, event
from ledger.errors import InputError

__all__ = [
    "CATALOGUE",
    "CLOCK_SKEW",
    "ENVELOPE",
    "MAX_DEPTH",
    "MAX_NOTICE_TEXT",
    "MAX_SUBJECT",
    "MAX_TEXT",
    "MAX_VALUE",
    "OUT_OF_RANGE",
    "UNKNOWN_KEY",
    "Draft",
    "Event",
    "FieldSpec",
    "_check_text",
    "event",
    "parse_rfc3339",
    "parse_unverified_event",
    "payload_of",
    "shown_key",
    "spec",
    "utcnow",
]

# -- shared choices ----------------------------------------------------------
NOTICE_KINDS = ("banner", "form", "notice")
CONSENT_METHODS = ("banner", "form", "checkbox", "email", "paper", "verbal", "api", "settings")
RIGHTS = ("access", "rectification", "erasure", "restriction", "portability", "objection",
          "recipients_notification", "automated_decision", "consent_withdrawal")
CHANNELS = ("email", "post", "form", "phone", "in_person", "api")
ERASURE_GROUNDS = ("no_longer_necessary", "consent_withdrawn", "objection", "unlawful",
                   "legal_obligation", "child_data", "retention_expired")
GUARDIANS = ("parent", "legal_guardian")
HOLD_BASES = ("pre_litigation", "litigation", "legal_obligation", "authority_request")
RESTRICTION_GROUNDS = ("accuracy_contested", "unlawful_processing", "claims_need",
                       "objection_pending")
RECIPIENT_KINDS = ("internal", "processor", "third_party", "authority")
SAFEGUARDS = ("adequacy", "standard_contractual_clauses", "binding_corporate_rules",
              "derogation", "none")
BREACH_NATURE = ("confidentiality", "integrity", "availability")
BREACH_RISK = ("unlikely", "risk", "high_risk")
ANONYMISATION = ("aggregation", "generalisation", "suppression", "randomisation")
COMMUNICATION = ("individual", "public")
COMMUNICATION_EXEMPTIONS = ("unintelligible", "risk_no_longer_likely",
                            "disproportionate_effort")

GUARDIAN = (
    ("name", FieldSpec("value", personal=True, doc="guardian's name")),
    ("relationship", FieldSpec("enum", choices=GUARDIANS)),
    ("authorised_at", FieldSpec("time", doc="when the guardian authorised")),
    ("joint", FieldSpec("bool", required=False,
                        doc="consent given jointly by minor and guardian")),
)


# -- policy -------------------------------------------------------------------
@event("PolicyPublished", "policy", "forbidden",
       "A privacy policy version comes into force; later events cite it.")
class PolicyPublished(Event):
    policy: dict[str, Any] = spec("object_any", "the policy document (see docs/POLICY.md)")


# -- consent ------------------------------------------------------------------
def _evidence() -> Any:
    return spec("value", "what proves the choice (form reference, screenshot id, signed "
                "record…)", required=False, personal=True)


def _notice_cited() -> Any:
    return spec("ref", "notice_id of the NoticePublished text the person saw",
                required=False)


@event("NoticePublished", "consent", "forbidden",
       "The text of a consent banner, form or notice, as shown to people; choices cite it "
       "by `notice_id`. The ledger stores its SHA-256 `digest`.")
class NoticePublished(Event):
    notice_id: str = spec("ref", "your id for this exact text, unique (e.g. "
                          "cookie-banner/v3)")
    kind: str = spec("enum", "what the text is", choices=NOTICE_KINDS)
    language: str = spec("language", "the text's language")
    text: str = spec("long_text", "the text as shown (no personal data)")


@event("ConsentGiven", "consent", "required",
       "The subject consents to one purpose (Art. 6(1)(a), 7(1)).")
class ConsentGiven(Event):
    purpose: str = spec("code", "a consent-based purpose of the policy")
    method: str = spec("enum", "how consent was collected", choices=CONSENT_METHODS)
    policy_version: str | None = spec("ref", "policy version in force; filled in if absent",
                                      required=False)
    age: int | None = spec("int", "subject's age when known", required=False,
                           personal=True, lo=0, hi=130)
    guardian: dict[str, Any] | None = spec("object", "required below the policy's minimum age",
                                           required=False, sub=GUARDIAN)
    evidence: Any = _evidence()
    notice_id: str | None = _notice_cited()

    def check(self, occurred_at: datetime) -> None:
        if self.guardian is not None:
            at = self.guardian["authorised_at"]
            if at > occurred_at:
                raise InputError("data.guardian.authorised_at",
                                 "must not be later than occurred_at")


@event("ConsentRefused", "consent", "required",
       "The subject refuses a purpose (CNIL 2020-092: refusals are kept too).")
class ConsentRefused(Event):
    purpose: str = spec("code", "a consent-based purpose of the policy")
    method: str = spec("enum", "how the choice was expressed", choices=CONSENT_METHODS)
    policy_version: str | None = spec("ref", "policy version in force; filled in if absent",
                                      required=False)
    evidence: Any = _evidence()
    notice_id: str | None = _notice_cited()


@event("ConsentWithdrawn", "consent", "required",
       "The subject withdraws a consent in force (Art. 7(3)); the past stays lawful.")
class ConsentWithdrawn(Event):
    purpose: str = spec("code", "the purpose whose consent is withdrawn")
    method: str = spec("enum", "how the withdrawal was expressed", choices=CONSENT_METHODS)
    evidence: Any = _evidence()
    notice_id: str | None = _notice_cited()


# -- collection ---------------------------------------------------------------
@event("DataCollected", "collection", "required",
       "Personal data of one category is collected for one purpose.")
class DataCollected(Event):
    category: str = spec("code", "a data category of the policy")
    purpose: str = spec("code", "a purpose of the policy that covers the category")
    values: dict[str, Any] = spec("values", "field → value; fields of the category; all sealed",
                                  personal=True)
    source: str = spec("enum", "where the data came from",
                       choices=("subject", "cookie", "observed", "third_party"))
    policy_version: str | None = spec("ref", "policy version in force; filled in if absent",
                                      required=False)


@event("DataRectified", "collection", "required",
       "Values of an earlier collection are corrected (Art. 16).")
class DataRectified(Event):
    collection_id: str = spec("uuid", "event_id of the subject's DataCollected")
    values: dict[str, Any] = spec("values", "corrected field → value; sealed", personal=True)
    request_id: str | None = spec("ref", "rights request answered, if any", required=False)


# -- rights -------------------------------------------------------------------
@event("RightsRequestReceived", "rights", "required",
       "A rights request arrives; one month to answer (Art. 12(3)).")
class RightsRequestReceived(Event):
    request_id: str = spec("ref", "your reference, unique for the subject")
    right: str = spec("enum", "the right exercised (Art. 15–22)", choices=RIGHTS)
    channel: str = spec("enum", "how it arrived", choices=CHANNELS)
    details: Any = spec("value", "the request's words", required=False, personal=True)


@event("RightsRequestExtended", "rights", "required",
       "The deadline is extended by two months, with a reason, within the first month.")
class RightsRequestExtended(Event):
    request_id: str = spec("ref", "the open request")
    reason: str = spec("text", "why (complexity, number of requests)")


@event("RightsRequestFulfilled", "rights", "required", "The request is answered.")
class RightsRequestFulfilled(Event):
    request_id: str = spec("ref", "the open request")
    summary: str | None = spec("text", "what was done", required=False)


@event("RightsRequestRefused", "rights", "required",
       "The request is refused, with reasons (Art. 12(4)).")
class RightsRequestRefused(Event):
    request_id: str = spec("ref", "the open request")
    reason: str = spec("text", "why; the subject may complain to the CNIL")


# -- erasure and restriction ----------------------------------------------------
@event("SubjectErased", "erasure", "required",
       "All the subject's data keys are destroyed (Art. 17): sealed values become "
       "unreadable for good; hashes stay valid.")
class SubjectErased(Event):
    ground: str = spec("enum", "Art. 17(1) ground", choices=ERASURE_GROUNDS)
    request_id: str | None = spec("ref", "rights request answered, if any", required=False)


@event("DataAnonymised", "erasure", "required",
       "The keys of the given categories are destroyed; only anonymous statistics remain.")
class DataAnonymised(Event):
    categories: list[str] = spec("codes", "data categories anonymised")
    method: str = spec("enum", "anonymisation technique", choices=ANONYMISATION)


@event("LegalHoldPlaced", "erasure", "required",
       "Data is archived for (pre-)litigation: erasure and expiry are blocked.")
class LegalHoldPlaced(Event):
    hold_id: str = spec("ref", "your reference")
    basis: str = spec("enum", "why", choices=HOLD_BASES)
    matter: str | None = spec("ref", "case reference (no personal data)", required=False)


@event("LegalHoldReleased", "erasure", "required", "A legal hold ends.")
class LegalHoldReleased(Event):
    hold_id: str = spec("ref", "the active hold")


@event("ProcessingRestricted", "erasure", "required",
       "Processing is restricted to storage (Art. 18); new collection is refused.")
class ProcessingRestricted(Event):
    restriction_id: str = spec("ref", "your reference")
    ground: str = spec("enum", "Art. 18(1) ground", choices=RESTRICTION_GROUNDS)
    purposes: list[str] | None = spec("codes", "purposes restricted (all when absent)",
                                      required=False)


@event("RestrictionLifted", "erasure", "required", "A restriction ends.")
class RestrictionLifted(Event):
    restriction_id: str = spec("ref", "the active restriction")


@event("ObjectionRecorded", "erasure", "required",
       "The subject objects to a purpose based on legitimate interests or public task "
       "(Art. 21).")
class ObjectionRecorded(Event):
    purpose: str = spec("code", "the purpose objected to")
    grounds: Any = spec("value", "the subject's grounds", required=False, personal=True)


# -- disclosure -------------------------------------------------------------------
@event("DataDisclosed", "disclosure", "optional",
       "Data is disclosed to a recipient (Art. 19 notices find recipients here).")
class DataDisclosed(Event):
    recipient: str = spec("code", "recipient id (see the policy's recipients)")
    recipient_kind: str = spec("enum", "internal team, processor, third party, authority",
                               choices=RECIPIENT_KINDS)
    country: str = spec("country", "ISO 3166-1 alpha-2 country of the recipient")
    categories: list[str] = spec("codes", "data categories disclosed")
    purpose: str = spec("code", "purpose of the disclosure")
    safeguard: str | None = spec("enum", "Chapter V safeguard for a transfer outside the EEA",
                                 required=False, choices=SAFEGUARDS)
    subject_count: int | None = spec("int", "subjects concerned, for a bulk disclosure",
                                     required=False, lo=1, hi=2**53 - 1)


# -- breach -------------------------------------------------------------------------
def _art33(item: str, kind: str = "text") -> Any:
    if kind == "int":
        return spec(kind, f"Art. 33(3)({item})", required=False, lo=0, hi=2**53 - 1)
    return spec(kind, f"Art. 33(3)({item})", required=False)


@event("BreachDetected", "breach", "forbidden",
       "A personal data breach is discovered; the 72-hour clock starts (Art. 33).")
class BreachDetected(Event):
    breach_id: str = spec("ref", "your reference, unique")
    discovered_at: datetime | None = spec("time", "when you became aware (default: "
                                          "occurred_at)", required=False)
    nature: list[str] = spec("enum_list", "confidentiality, integrity, availability",
                             choices=BREACH_NATURE)
    risk: str = spec("enum", "risk to rights and freedoms", choices=BREACH_RISK)
    description: str = spec("text", "facts (no personal data)")
    categories_of_subjects: list[str] | None = _art33("a", "codes")
    approx_subjects: int | None = _art33("a", "int")
    categories_of_records: list[str] | None = _art33("a", "codes")
    approx_records: int | None = _art33("a", "int")
    dpo_contact: str | None = _art33("b")
    likely_consequences: str | None = _art33("c")
    measures: str | None = _art33("d")

    def check(self, occurred_at: datetime) -> None:
        if self.discovered_at is not None and self.discovered_at > occurred_at:
            raise InputError("data.discovered_at", "must not be later than occurred_at")


@event("BreachNotified", "breach", "forbidden",
       "The authority is notified; after 72 hours a reason for the delay is required.")
class BreachNotified(Event):
    breach_id: str = spec("ref", "the detected breach")
    authority: str = spec("ref", "e.g. CNIL")
    reference: str | None = spec("ref", "the authority's reference", required=False)
    reason_for_delay: str | None = spec("text", "required when later than the deadline",
                                        required=False)
    supplementary: bool | None = spec("bool", "further information (Art. 33(4))",
                                      required=False)
    categories_of_subjects: list[str] | None = _art33("a", "codes")
    approx_subjects: int | None = _art33("a", "int")
    categories_of_records: list[str] | None = _art33("a", "codes")
    approx_records: int | None = _art33("a", "int")
    dpo_contact: str | None = _art33("b")
    likely_consequences: str | None = _art33("c")
    measures: str | None = _art33("d")


@event("BreachCommunicated", "breach", "forbidden",
       "Subjects are told (Art. 34), or the exemption that applies is recorded.")
class BreachCommunicated(Event):
    breach_id: str = spec("ref", "the detected breach")
    method: str | None = spec("enum", "how subjects were told", required=False,
                              choices=COMMUNICATION)
    exemption: str | None = spec("enum", "Art. 34(3) exemption", required=False,
                                 choices=COMMUNICATION_EXEMPTIONS)

    def check(self, occurred_at: datetime) -> None:
        if (self.method is None) == (self.exemption is None):
            raise InputError("data.method", "give exactly one of method or exemption")


# -- access (issue 10 item 6: who read personal data) -----------------------------
ACCESS_VIEWS = ("export", "show", "log", "replay", "consent")
ACCESS_CHANNELS = ("cli", "http", "api")


@event("PersonalDataAccessed", "access", "required",
       "Someone was shown the subject's personal values (decrypted): recorded before they "
       "are shown; the actor is who read. Carries no personal value.")
class PersonalDataAccessed(Event):
    view: str = spec("enum", "what was read: the command or route", choices=ACCESS_VIEWS)
    channel: str = spec("enum", "the face it was read through", choices=ACCESS_CHANNELS)
    reason: str | None = spec("text", "why (--reason, Ledger-Access-Reason); no personal "
                              "data", required=False)
    scope: str | None = spec("text", "the filters of the read (seq, types, times); no "
                             "personal data", required=False)
    first_seq: int | None = spec("int", "the first of the subject's entries shown",
                                 required=False, lo=1, hi=2**53 - 1)
    last_seq: int | None = spec("int", "the last of the subject's entries shown",
                                required=False, lo=1, hi=2**53 - 1)
    entries: int | None = spec("int", "how many of the subject's entries were shown",
                               required=False, lo=0, hi=2**53 - 1)


