# Over 400 lines (see wc -l): issue 15 splits it by layer (domain/, keys/, app/, cli/); it is kept
# whole this session so that issue 10 lands without moving files (docs/DECISIONS.md 44-45).
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

import dataclasses
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from ledger.domain.json_input import MAX_VALUE_DEPTH
from ledger.domain.policy import is_country_code
from ledger.domain.text_rules import disguising_character
from ledger.errors import InputError
from ledger.trust.canonical import check_domain, format_time

__all__ = [
    "CATALOGUE",
    "Draft",
    "Event",
    "FieldSpec",
    "parse_rfc3339",
    "parse_unverified_event",
]

MAX_TEXT = 2000
MAX_NOTICE_TEXT = 50_000
MAX_VALUE = 10_000
MAX_DEPTH = MAX_VALUE_DEPTH  # levels of arrays/objects in a free-form value (docs/FORMAT.md)
MAX_SUBJECT = 256
CLOCK_SKEW = timedelta(minutes=5)
OUT_OF_RANGE = "must lie within the years 0001-9999 once converted to UTC"
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}\Z")
_ACTOR = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}\Z")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,4}\Z")
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one ``data`` field is checked and stored."""

    kind: str  # code, codes, ref, text, long_text, language, int, bool, time, enum,
    # country, value, values, object
    required: bool = True
    personal: bool = False
    choices: tuple[str, ...] = ()
    lo: int | None = None
    hi: int | None = None
    sub: tuple[tuple[str, FieldSpec], ...] = ()
    doc: str = ""


def spec(kind: str, doc: str = "", *, required: bool = True, personal: bool = False,
         choices: tuple[str, ...] = (), lo: int | None = None, hi: int | None = None,
         sub: tuple[tuple[str, FieldSpec], ...] = ()) -> Any:
    """A dataclass field carrying its :class:`FieldSpec`."""
    return field(metadata={"spec": FieldSpec(kind, required, personal, choices, lo, hi,
                                             sub, doc)})


def parse_rfc3339(text: object, where: str) -> datetime:
    """RFC 3339 date-time with a mandatory offset, as an aware datetime."""
    if not isinstance(text, str) or not _RFC3339.match(text):
        raise InputError(where, "must be an RFC 3339 date-time with an offset, "
                                "e.g. 2024-03-01T09:30:00+01:00")
    norm = text.upper().replace("Z", "+00:00")
    m = re.match(r"(.*?)(\.\d+)?([+-]\d{2}:\d{2})\Z", norm)
    if m is None:  # pragma: no cover - _RFC3339 matched already
        raise InputError(where, "must be an RFC 3339 date-time with an offset")
    frac = (m.group(2) or ".0")[1:7].ljust(6, "0")
    try:
        moment = datetime.fromisoformat(f"{m.group(1)}.{frac}{m.group(3)}")
    except ValueError:
        raise InputError(where, "is not a valid calendar date and time") from None
    try:
        moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the year 1 in UTC
        raise InputError(where, OUT_OF_RANGE) from None
    return moment


class Event:
    """Base of the catalogue's event classes (each a frozen dataclass)."""

    TYPE: ClassVar[str]
    FAMILY: ClassVar[str]
    SUBJECT: ClassVar[str]  # "required", "optional" or "forbidden"
    DOC: ClassVar[str] = ""

    def check(self, occurred_at: datetime) -> None:
        """Rules that need this event alone; raise InputError(field, rule)."""

    @classmethod
    def specs(cls) -> tuple[tuple[str, FieldSpec], ...]:
        return _specs(cls)


_SPECS: dict[str, tuple[tuple[str, FieldSpec], ...]] = {}


def _specs(cls: type[Event]) -> tuple[tuple[str, FieldSpec], ...]:
    found = _SPECS.get(cls.TYPE)
    if found is None:
        found = _SPECS[cls.TYPE] = tuple(
            (f.name, f.metadata["spec"]) for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    return found


CATALOGUE: dict[str, type[Event]] = {}


def event(type_: str, family: str, subject: str, doc: str) -> Any:
    def register(cls: type[Event]) -> type[Event]:
        cls = dataclass(frozen=True, slots=True, kw_only=True)(cls)
        cls.TYPE, cls.FAMILY, cls.SUBJECT, cls.DOC = type_, family, subject, doc
        CATALOGUE[type_] = cls
        return cls
    return register


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


# -- parsing ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Draft:
    """A parsed, not yet recorded event; ``subject`` is the raw identifier."""

    event_id: str
    type: str
    subject: str | None
    occurred_at: datetime
    actor: str | None
    event: Event
    event_id_given: bool


def _check_text(value: object, where: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InputError(where, "must be a string")
    if not value.strip():
        raise InputError(where, "must not be empty")
    if len(value) > limit:
        raise InputError(where, f"must be at most {limit} characters")
    if _CONTROL.search(value):
        raise InputError(where, "must not contain control characters")
    if _SURROGATE.search(value):
        raise InputError(where, "must be valid Unicode (no lone surrogates)")
    hidden = disguising_character(value)
    if hidden:
        raise InputError(where, f"must not contain bidirectional or invisible format "
                                f"characters (found {hidden}; docs/events.md)")
    return value


def _field(name: str, fs: FieldSpec, value: Any, where: str) -> Any:
    kind = fs.kind
    if kind == "code":
        if not isinstance(value, str) or not _CODE.match(value):
            raise InputError(where, "must be an identifier matching [a-z][a-z0-9_]*")
        return value
    if kind in ("codes", "enum_list"):
        if not isinstance(value, list) or not value:
            raise InputError(where, "must be a non-empty list")
        out = [_field(name, FieldSpec("enum" if kind == "enum_list" else "code",
                                      choices=fs.choices), v, f"{where}[{i}]")
               for i, v in enumerate(value)]
        if len(set(out)) != len(out):
            raise InputError(where, "must not repeat an item")
        return out
    if kind == "ref":
        if not isinstance(value, str) or not _REF.match(value):
            raise InputError(where, "must be a reference of 1-128 characters "
                                    "[A-Za-z0-9._:/-] starting with a letter or digit")
        return value
    if kind == "uuid":
        try:
            return str(uuid.UUID(value)) if isinstance(value, str) else _bad_uuid(where)
        except ValueError:
            return _bad_uuid(where)
    if kind == "text":
        return _check_text(value, where, MAX_TEXT)
    if kind == "long_text":
        return _check_text(value, where, MAX_NOTICE_TEXT)
    if kind == "language":
        if not isinstance(value, str) or not _LANGUAGE.match(value):
            raise InputError(where, "must be a BCP 47 language tag such as fr or fr-FR")
        return value
    if kind == "int":
        if type(value) is not int:
            raise InputError(where, "must be an integer")
        if (fs.lo is not None and value < fs.lo) or (fs.hi is not None and value > fs.hi):
            raise InputError(where, f"must be between {fs.lo} and {fs.hi}")
        return value
    if kind == "bool":
        if type(value) is not bool:
            raise InputError(where, "must be true or false")
        return value
    if kind == "time":
        return parse_rfc3339(value, where)
    if kind == "enum":
        if value not in fs.choices:
            raise InputError(where, "must be one of " + ", ".join(fs.choices))
        return value
    if kind == "country":
        if not is_country_code(value):
            raise InputError(where, "must be an ISO 3166-1 alpha-2 code such as FR")
        return value
    if kind == "value":
        return _json_value(value, where)
    if kind == "values":
        if not isinstance(value, dict) or not value:
            raise InputError(where, "must be a non-empty object of field → value")
        for k in value:
            if not isinstance(k, str) or not _CODE.match(k):
                raise InputError(where, "field names must match [a-z][a-z0-9_]*")
        return {k: _json_value(v, f"{where}.{k}") for k, v in value.items()}
    if kind == "object":
        if not isinstance(value, dict):
            raise InputError(where, "must be an object")
        return _parse_fields(fs.sub, value, where)
    if kind == "object_any":
        if not isinstance(value, dict):
            raise InputError(where, "must be an object")
        why = check_domain(value, where)
        if why:
            raise InputError(where, why)
        return value
    raise AssertionError(kind)  # pragma: no cover - the catalogue is fixed


def _bad_uuid(where: str) -> str:
    raise InputError(where, "must be a UUID")


def _json_value(value: Any, where: str) -> Any:
    if value is None:
        raise InputError(where, "must not be null")
    if isinstance(value, str):
        _check_text(value, where, MAX_VALUE)
    _check_nested(value, where)
    why = check_domain(value, where)
    if why:
        raise InputError(where, why.split(": ", 1)[1] if ": " in why else why)
    if len(str(value)) > MAX_VALUE:
        raise InputError(where, f"must be at most {MAX_VALUE} characters once encoded")
    return value


def _check_nested(value: Any, where: str) -> None:
    """Depth at most MAX_DEPTH, and the rules of text for every string inside, walked
    without recursion (a value nested 2,000 levels deep must not crash the check)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise InputError(where, f"must not be nested more than {MAX_DEPTH} levels "
                                        "deep (arrays and objects)")
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                  else item))
        elif isinstance(item, str) and item is not value and (
                _CONTROL.search(item) or disguising_character(item)):
                raise InputError(where, "its strings must not contain control characters "
                                        "or bidirectional or invisible format characters")


_KEY_SHOWN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}\Z")
UNKNOWN_KEY = "(unknown key)"


def shown_key(key: object) -> str:
    """A key the caller sent, as an error may repeat it: a name-like key as it is; any
    other (it could be an e-mail address or a name: personal data) as ``(unknown key)``."""
    return key if isinstance(key, str) and _KEY_SHOWN.match(key) else UNKNOWN_KEY


def _parse_fields(specs: tuple[tuple[str, FieldSpec], ...], data: Mapping[str, Any],
                  where: str) -> dict[str, Any]:
    known = {n for n, _ in specs}
    for key in data:
        if key not in known:
            raise InputError(f"{where}.{shown_key(key)}", "is not a field of this event "
                             f"(fields: {', '.join(sorted(known))})")
    out: dict[str, Any] = {}
    for name, fs in specs:
        at = f"{where}.{name}"
        if name not in data or data[name] is None:
            if fs.required:
                raise InputError(at, "is required")
            out[name] = None
            continue
        out[name] = _field(name, fs, data[name], at)
    return out


ENVELOPE = frozenset({"event_id", "type", "subject", "occurred_at", "actor", "data"})


def parse_unverified_event(raw: object, *, now: datetime,
                           default_actor: str | None = None) -> Draft:
    """Check an untrusted JSON event; raise InputError naming the field and rule.

    ``now`` is the ledger's clock, passed in: ``occurred_at`` may not be more
    than five minutes after it.
    """
    if not isinstance(raw, dict):
        raise InputError("event", "must be a JSON object")
    for key in raw:
        if key not in ENVELOPE:
            raise InputError(shown_key(key), "is not an envelope field "
                             "(event_id, type, subject, occurred_at, actor, data)")
    type_ = raw.get("type")
    if not isinstance(type_, str) or type_ not in CATALOGUE:
        raise InputError("type", "must be one of the catalogue's types (docs/events.md)")
    cls = CATALOGUE[type_]
    event_id = raw.get("event_id")
    given = event_id is not None
    if given:
        try:
            event_id = str(uuid.UUID(event_id)) if isinstance(event_id, str) else None
        except ValueError:
            event_id = None
        if event_id is None:
            raise InputError("event_id", "must be a UUID")
    else:
        event_id = str(uuid.uuid4())
    subject = raw.get("subject")
    if cls.SUBJECT == "required" and subject is None:
        raise InputError("subject", f"is required for {type_}")
    if cls.SUBJECT == "forbidden" and subject is not None:
        raise InputError("subject", f"must be absent for {type_} (an organisation event)")
    if subject is not None:
        _check_text(subject, "subject", MAX_SUBJECT)
        if check_domain(subject):
            raise InputError("subject", "must be valid Unicode")
    if "occurred_at" not in raw:
        raise InputError("occurred_at", "is required")
    occurred_at = parse_rfc3339(raw["occurred_at"], "occurred_at")
    if occurred_at > now + CLOCK_SKEW:
        raise InputError("occurred_at", "must not be in the future (more than 5 minutes "
                                        "after the ledger's clock)")
    actor = raw.get("actor", default_actor)
    if actor is not None and (not isinstance(actor, str) or not _ACTOR.match(actor)):
        raise InputError("actor", "must be 1-128 characters [A-Za-z0-9._:@/-]")
    data = raw.get("data", {})
    if not isinstance(data, dict):
        raise InputError("data", "must be an object")
    fields = _parse_fields(cls.specs(), data, "data")
    ev = cls(**fields)
    ev.check(occurred_at)
    return Draft(event_id, type_, subject, occurred_at, actor, ev, given)


def payload_of(ev: Event) -> dict[str, Any]:
    """The event's data in stored form before sealing: times formatted, absent dropped."""
    out: dict[str, Any] = {}
    for name, fs in ev.specs():
        value = getattr(ev, name)
        if value is None:
            continue
        out[name] = _stored(fs, value)
    return out


def _stored(fs: FieldSpec, value: Any) -> Any:
    if fs.kind == "time":
        return format_time(value)
    if fs.kind == "object":
        return {n: _stored(s, value[n]) for n, s in fs.sub if value.get(n) is not None}
    return value


def utcnow() -> datetime:
    return datetime.now(UTC)
