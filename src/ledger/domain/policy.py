# Over 400 lines (see wc -l): issue 15 splits it by layer (domain/, keys/, app/, cli/); it is kept
# whole this session so that issue 10 lands without moving files (docs/DECISIONS.md 44-45).
"""Policy as data: purposes, legal bases, data categories, recipients, retention.

A policy is a TOML document (``docs/POLICY.md`` specifies every key) that is
loaded, validated and turned into frozen dataclasses.  The same shape, with
``effective_at`` as a string and every optional key spelt out, is the JSON
form published into the ledger (:meth:`Policy.to_json`, :meth:`Policy.from_json`);
:func:`policy_digest` fingerprints it.

Every defect of a policy document raises :class:`~ledger.errors.PolicyError`
naming the field (a dotted path such as ``purposes[2].legal_basis``, indices
0-based) and the rule.  Nothing else is raised for bad policy input.

Decisions (see ``docs/POLICY.md``):

* ``consent_required`` is derived from ``legal_basis == "consent"``; a
  document may state it, but only with the derived value.
* Unknown keys are refused, so a typo cannot drop a rule silently.
* Every category must be cited by at least one purpose (data collected for
  no purpose breaks GDPR Art. 5(1)(b)), every purpose cites at least one
  category, and every (purpose, category) pair has a retention period, on
  the purpose, on the category or both (Art. 5(1)(e)); when both are set the
  earlier deadline wins.
* A transfer is only to a country outside the EEA, and a recipient outside
  the EEA must be covered by a transfer naming its safeguard.
* ``time_zone`` names the controller's calendar (an IANA name such as
  ``Europe/Paris``); every period is counted on the local date in it
  (:mod:`ledger.domain.periods`).  A policy without it, as every policy published
  before the field existed, counts in ``UTC``, so old ledgers keep their meaning.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from importlib import resources
from pathlib import Path

from ledger.domain import periods
from ledger.domain.text_rules import disguising_character
from ledger.errors import PolicyError
from ledger.trust.canonical import format_time, parse_time

__all__ = [
    "EEA_COUNTRIES",
    "ISO_COUNTRIES",
    "LEGAL_BASES",
    "RECIPIENT_KINDS",
    "TRANSFER_SAFEGUARDS",
    "Category",
    "Controller",
    "Policy",
    "Purpose",
    "Recipient",
    "Transfer",
    "add_period",
    "bundled_policy",
    "is_country_code",
    "is_outside_eea",
    "load_policy",
    "parse_period",
    "policy_digest",
]

#: GDPR Art. 6(1)(a)-(f), by the id a policy uses, to the W3C DPV GDPR IRI.
LEGAL_BASES: dict[str, str] = {
    "consent": "https://w3id.org/dpv/legal/eu/gdpr#A6-1-a",
    "contract": "https://w3id.org/dpv/legal/eu/gdpr#A6-1-b",
    "legal_obligation": "https://w3id.org/dpv/legal/eu/gdpr#A6-1-c",
    "vital_interests": "https://w3id.org/dpv/legal/eu/gdpr#A6-1-d",
    "public_task": "https://w3id.org/dpv/legal/eu/gdpr#A6-1-e",
    "legitimate_interests": "https://w3id.org/dpv/legal/eu/gdpr#A6-1-f",
}

#: Who a recipient is, relative to the controller.
RECIPIENT_KINDS: frozenset[str] = frozenset({"internal", "processor", "third_party", "authority"})

#: GDPR Chapter V grounds for a transfer outside the EEA, to their article.
TRANSFER_SAFEGUARDS: dict[str, str] = {
    "adequacy_decision": "GDPR Art. 45",
    "standard_contractual_clauses": "GDPR Art. 46(2)(c)",
    "binding_corporate_rules": "GDPR Art. 47",
    "code_of_conduct": "GDPR Art. 46(2)(e)",
    "certification": "GDPR Art. 46(2)(f)",
    "ad_hoc_clauses": "GDPR Art. 46(3)(a)",
    "derogation": "GDPR Art. 49",
}


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: ISO 3166-1 alpha-2, the 249 officially assigned codes.
ISO_COUNTRIES: frozenset[str] = _codes(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL
    BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV
    CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD
    GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM
    IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK
    LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW
    MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR
    PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS
    ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY
    UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """
)

#: The European Economic Area: the 27 EU member states, Iceland, Liechtenstein, Norway.
EEA_COUNTRIES: frozenset[str] = _codes(
    """
    AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE
    IS LI NO
    """
)

# Parts of EU member states that ISO 3166-1 codes separately but where the
# GDPR applies in full (Åland; the French outermost regions, TFEU Art. 349/355).
_EU_TERRITORIES: frozenset[str] = frozenset({"AX", "GF", "GP", "MQ", "RE", "YT", "MF"})

_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_URL = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?")
_PERIOD = re.compile(r"P(?:([0-9]{1,3})Y)?(?:([0-9]{1,4})M)?(?:([0-9]{1,5})D)?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_SHOWN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")

_MAX_MONTHS = 100 * 12
_MAX_DAYS = 100 * 366
_MAX_TEXT = 4000
_MIN_AGE = 13  # GDPR Art. 8(1): Member States may lower 16, not below 13
_MAX_AGE = 16
_MAX_BREACH_HOURS = 72  # GDPR Art. 33(1)
_MAX_EXTENSION_MONTHS = 2  # GDPR Art. 12(3)
_RESPONSE_MONTHS = 1  # GDPR Art. 12(3)
_MAX_ITEMS = 1000
_FIRST_YEAR = 1970


# ---------------------------------------------------------------------------
# Data model


@dataclass(frozen=True, slots=True)
class Controller:
    """The controller (GDPR Art. 4(7)) and its contact details (Art. 13(1)(a))."""

    name: str
    address: str
    email: str
    url: str


@dataclass(frozen=True, slots=True)
class Purpose:
    """A purpose of processing with its legal basis (Art. 6(1)) and data categories."""

    id: str
    name: str
    description: str
    legal_basis: str
    consent_required: bool
    categories: tuple[str, ...]
    retention: str | None
    source: str
    #: how long a consent to this purpose stays valid (ISO 8601 period), None: no limit
    consent_validity: str | None = None

    @property
    def legal_basis_iri(self) -> str:
        """The DPV GDPR IRI of the legal basis (``…gdpr#A6-1-a`` … ``#A6-1-f``)."""
        return LEGAL_BASES[self.legal_basis]


@dataclass(frozen=True, slots=True)
class Category:
    """A category of personal data and the fields that belong to it."""

    id: str
    name: str
    description: str
    fields: tuple[str, ...]
    from_trackers: bool
    retention: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone the data is disclosed to (Art. 4(9)), for the purposes listed."""

    id: str
    name: str
    kind: str
    country: str
    purposes: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Transfer:
    """A transfer to a country outside the EEA and its Chapter V safeguard."""

    recipient: str
    country: str
    safeguard: str
    source: str


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated privacy policy, as published into the ledger."""

    id: str
    version: str
    effective_at: datetime
    language: str
    time_zone: str  # IANA name: the controller's calendar, where periods are counted
    url: str
    controller: Controller
    dpo_email: str
    minimum_age: int
    joint_consent_age: int | None
    breach_notification_hours: int
    rights_response_months: int
    rights_extension_months: int
    purposes: tuple[Purpose, ...]
    categories: tuple[Category, ...]
    recipients: tuple[Recipient, ...]
    transfers: tuple[Transfer, ...]
    security_measures: tuple[str, ...]
    subject_categories: tuple[str, ...]
    # Time allowed to erase once consent is withdrawn, an objection upheld or an erasure
    # request granted (Art. 17(1)); None: DEFAULT_ERASURE_GRACE (docs/POLICY.md)
    erasure_grace: str | None = None
    # Every read of personal data must say why (PersonalDataAccessed.reason); a choice of
    # the controller's (Art. 5(2), 32): docs/POLICY.md "Reasons for reading"
    access_reason_required: bool = False

    def purpose(self, id: str) -> Purpose | None:  # noqa: A002 - mirrors the field name
        """The purpose with this id, or ``None``."""
        return next((p for p in self.purposes if p.id == id), None)

    def category(self, id: str) -> Category | None:  # noqa: A002
        """The data category with this id, or ``None``."""
        return next((c for c in self.categories if c.id == id), None)

    def recipient(self, id: str) -> Recipient | None:  # noqa: A002
        """The recipient with this id, or ``None``."""
        return next((r for r in self.recipients if r.id == id), None)

    @property
    def zone(self) -> tzinfo:
        """The policy's time zone (:func:`ledger.domain.periods.time_zone` of ``time_zone``)."""
        return periods.time_zone(self.time_zone)

    def period_end(self, start: datetime, period: str) -> datetime:
        """When ``period`` counted from the instant ``start`` ends, in UTC.

        Counted on the local date in the policy's time zone: see :mod:`ledger.domain.periods`.
        """
        return add_period(start, period, self.zone)

    def retention_deadline(
        self, collected_at: datetime, purpose: str, category: str
    ) -> datetime | None:
        """When data of ``category`` collected at ``collected_at`` for ``purpose`` expires.

        The earlier of the purpose's and the category's retention periods,
        counted from collection on the local date in the policy's time zone
        (:meth:`period_end`), in UTC.  ``None`` when the purpose is unknown or does
        not cite the category (a valid policy gives every cited pair a period).
        """
        p = self.purpose(purpose)
        c = self.category(category)
        if p is None or c is None or category not in p.categories:
            return None
        deadlines = [self.period_end(collected_at, r) for r in (p.retention, c.retention)
                     if r]
        return min(deadlines) if deadlines else None

    def to_json(self) -> dict[str, object]:
        """The policy as JSON values (no floats), ready for canonical encoding."""
        doc = self._json()
        if self.erasure_grace is not None:  # absent when not set: older digests unchanged
            doc["erasure_grace"] = self.erasure_grace
        if self.access_reason_required:  # likewise
            doc["access_reason_required"] = True
        return doc

    def _json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "version": self.version,
            "effective_at": format_time(self.effective_at),
            "language": self.language,
            "time_zone": self.time_zone,
            "url": self.url,
            "controller": {
                "name": self.controller.name,
                "address": self.controller.address,
                "email": self.controller.email,
                "url": self.controller.url,
            },
            "dpo_email": self.dpo_email,
            "minimum_age": self.minimum_age,
            "joint_consent_age": self.joint_consent_age,
            "breach_notification_hours": self.breach_notification_hours,
            "rights_response_months": self.rights_response_months,
            "rights_extension_months": self.rights_extension_months,
            "purposes": [
                {
                    "id": p.id,
                    "name": p.name,
                    "description": p.description,
                    "legal_basis": p.legal_basis,
                    "consent_required": p.consent_required,
                    "categories": list(p.categories),
                    "retention": p.retention,
                    "source": p.source,
                    # only when set: policies published without it keep their digest
                    **({"consent_validity": p.consent_validity}
                       if p.consent_validity is not None else {}),
                }
                for p in self.purposes
            ],
            "categories": [
                {
                    "id": c.id,
                    "name": c.name,
                    "description": c.description,
                    "fields": list(c.fields),
                    "from_trackers": c.from_trackers,
                    "retention": c.retention,
                    "source": c.source,
                }
                for c in self.categories
            ],
            "recipients": [
                {
                    "id": r.id,
                    "name": r.name,
                    "kind": r.kind,
                    "country": r.country,
                    "purposes": list(r.purposes),
                    "source": r.source,
                }
                for r in self.recipients
            ],
            "transfers": [
                {
                    "recipient": t.recipient,
                    "country": t.country,
                    "safeguard": t.safeguard,
                    "source": t.source,
                }
                for t in self.transfers
            ],
            "security_measures": list(self.security_measures),
            "subject_categories": list(self.subject_categories),
        }

    @classmethod
    def from_json(cls, d: object) -> Policy:
        """Rebuild (and re-validate) a policy from :meth:`to_json` output."""
        return _policy(d)


# ---------------------------------------------------------------------------
# Countries and periods


def is_country_code(code: object) -> bool:
    """Whether ``code`` is an ISO 3166-1 alpha-2 code, in upper case."""
    return isinstance(code, str) and code in ISO_COUNTRIES


def is_outside_eea(country: str) -> bool:
    """Whether sending data to ``country`` leaves the EEA (a GDPR Chapter V transfer).

    Åland and the French outermost regions, which ISO codes separately, are
    inside.  Raises :class:`PolicyError` when ``country`` is not an upper-case
    ISO 3166-1 alpha-2 code.
    """
    if not is_country_code(country):
        raise PolicyError("country", "must be an ISO 3166-1 alpha-2 code in upper case")
    return country not in EEA_COUNTRIES and country not in _EU_TERRITORIES


def parse_period(text: str) -> tuple[int, int]:
    """``(months, days)`` of an ISO 8601 duration made of years, months and days.

    ``P13M`` -> ``(13, 0)``, ``P1Y6M`` -> ``(18, 0)``, ``P30D`` -> ``(0, 30)``.
    Weeks, times, fractions, signs and zero durations are refused, and so is
    anything longer than 100 years.
    """
    return _period(text, "retention")


def add_period(dt: datetime, text: str, zone: tzinfo | None = None) -> datetime:
    """``dt`` plus the period ``text``: calendar months first, then days.

    The day is clamped to the end of the month (31 Jan + ``P1M`` = 28 or 29
    Feb, Regulation 1182/71 art. 3(2)(c)) and the wall time is kept.  With a
    ``zone`` (the policy's, :attr:`Policy.zone`), the aware instant ``dt`` is
    counted on its local date in that zone and the result is in UTC
    (:func:`ledger.domain.periods.add_in_zone`); without one, on ``dt``'s own wall
    clock, its ``tzinfo`` kept.
    """
    months, days = parse_period(text)
    if zone is None:
        return periods.add_wall(dt, months, days)
    return periods.add_in_zone(dt, months, days, zone)


def _period(value: object, field: str) -> tuple[int, int]:
    rule = "must be an ISO 8601 duration of years, months and days such as P13M, P2Y, P1Y6M, P30D"
    if not isinstance(value, str):
        raise PolicyError(field, rule)
    m = _PERIOD.fullmatch(value)
    if m is None or value == "P":
        raise PolicyError(field, rule)
    years, months, days = (int(g) if g else 0 for g in m.groups())
    total_months = years * 12 + months
    if total_months == 0 and days == 0:
        raise PolicyError(field, "must be longer than zero")
    if total_months > _MAX_MONTHS or days > _MAX_DAYS:
        raise PolicyError(field, "must not exceed 100 years")
    return total_months, days


# ---------------------------------------------------------------------------
# Loading


def load_policy(source: str | bytes | Path) -> Policy:
    """Load and validate a policy: a :class:`~pathlib.Path` to a TOML file, or TOML text.

    ``str`` and ``bytes`` are TOML text (bytes must be UTF-8), never a file name.
    """
    if isinstance(source, Path):
        try:
            raw = source.read_bytes()
        except OSError as exc:
            raise PolicyError("source", f"cannot read the policy file ({exc.strerror})") from exc
        return _parse(raw)
    if isinstance(source, bytes | bytearray | str):
        return _parse(source)
    raise PolicyError("source", "must be a pathlib.Path, or TOML as str or bytes")


def bundled_policy() -> Policy:
    """The default policy shipped with the ledger: XP² cloud's of 14 May 2022."""
    raw = resources.files("ledger.domain.policies").joinpath("xp2cloud.toml").read_bytes()
    return _parse(raw)


def policy_digest(p: Policy) -> str:
    """Lowercase hex SHA-256 of the policy's sorted, compact JSON form."""
    text = json.dumps(p.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _parse(source: str | bytes | bytearray) -> Policy:
    if isinstance(source, bytes | bytearray):
        try:
            text = bytes(source).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError("toml", "must be UTF-8 text") from exc
    else:
        text = source
    try:
        data = tomllib.loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError, and odd datetimes
        raise PolicyError("toml", f"is not valid TOML ({exc})") from exc
    except RecursionError as exc:
        raise PolicyError("toml", "nests arrays or tables too deeply") from exc
    return _policy(data)


# ---------------------------------------------------------------------------
# Validation: one function per table, each names the field and the rule.


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(key: object) -> str:
    if isinstance(key, str) and _SHOWN_KEY.fullmatch(key):
        return key
    return repr(key)[:66]


def _table(
    value: object, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise PolicyError(path or "policy", "must be a table")
    allowed = frozenset(required) | frozenset(optional)
    for key in value:
        if key not in allowed:
            raise PolicyError(
                _at(path, _show(key)),
                f"unknown key (allowed: {', '.join(required + optional)})",
            )
    for key in required:
        if key not in value:
            raise PolicyError(_at(path, key), "is required")
    return value


def _text(value: object, field: str, *, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise PolicyError(field, "must be a string")
    if not value.strip():
        raise PolicyError(field, "must not be empty")
    if len(value) > _MAX_TEXT:
        raise PolicyError(field, f"must not be longer than {_MAX_TEXT} characters")
    if _SURROGATE.search(value):
        raise PolicyError(field, "must be valid Unicode (no lone surrogates)")
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(value):
        raise PolicyError(field, "must not contain control characters")
    hidden = disguising_character(value)
    if hidden:
        raise PolicyError(field, f"must not contain bidirectional or invisible format "
                                 f"characters (found {hidden})")
    return value


def _pattern(value: object, field: str, pattern: re.Pattern[str], rule: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise PolicyError(field, rule)
    return value


def _ident(value: object, field: str) -> str:
    return _pattern(value, field, _ID, "must match [a-z][a-z0-9_]* (at most 64 characters)")


def _email(value: object, field: str) -> str:
    _text(value, field)
    return _pattern(value, field, _EMAIL, "must be an e-mail address")


def _url(value: object, field: str) -> str:
    _text(value, field)
    return _pattern(value, field, _URL, "must be an http:// or https:// URL")


def _int(value: object, field: str, low: int, high: int, rule: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise PolicyError(field, "must be an integer")
    if not low <= value <= high:
        raise PolicyError(field, rule)
    return value


def _bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(field, "must be true or false")
    return value


def _array(value: object, field: str) -> list[object]:
    if not isinstance(value, list | tuple):
        raise PolicyError(field, "must be an array")
    if len(value) > _MAX_ITEMS:
        raise PolicyError(field, f"must not have more than {_MAX_ITEMS} items")
    return list(value)


def _strings(value: object, field: str, check: Callable[[object, str], str]) -> tuple[str, ...]:
    """A non-empty array of distinct strings, each passing ``check``."""
    items = _array(value, field)
    if not items:
        raise PolicyError(field, "must not be empty")
    out: list[str] = []
    for i, v in enumerate(items):
        s = check(v, f"{field}[{i}]")
        if s in out:
            raise PolicyError(f"{field}[{i}]", f"repeats {field}[{out.index(s)}]")
        out.append(s)
    return tuple(out)


def _ids(value: object, field: str) -> tuple[str, ...]:
    return _strings(value, field, _ident)


def _texts(value: object, field: str) -> tuple[str, ...]:
    return _strings(value, field, _text)


def _effective_at(value: object, field: str) -> datetime:
    rule = "must be a TOML offset date-time or a string YYYY-MM-DDTHH:MM:SS.ffffffZ"
    if isinstance(value, str):
        try:
            moment = parse_time(value)
        except ValueError as exc:
            raise PolicyError(field, rule) from exc
    elif isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise PolicyError(field, "must carry a time zone offset (e.g. 2022-05-14T00:00:00Z)")
        try:
            moment = value.astimezone(UTC)
        except OverflowError as exc:
            raise PolicyError(field, "must lie between 1970 and 9999") from exc
    elif isinstance(value, date | time):
        raise PolicyError(field, "must be a date and a time with an offset, not a date or a time")
    else:
        raise PolicyError(field, rule)
    if not _FIRST_YEAR <= moment.year <= datetime.max.year:
        raise PolicyError(field, "must lie between 1970 and 9999")
    return moment


_POLICY_KEYS = (
    "id", "version", "effective_at", "language", "url", "controller", "dpo_email",
    "minimum_age", "breach_notification_hours", "rights_response_months",
    "rights_extension_months", "purposes", "categories", "security_measures",
    "subject_categories",
)
_POLICY_OPTIONAL = ("joint_consent_age", "recipients", "transfers", "time_zone",
                    "erasure_grace", "access_reason_required")


def _policy(data: object) -> Policy:
    t = _table(data, "", _POLICY_KEYS, _POLICY_OPTIONAL)
    ident = _ident(t["id"], "id")
    version = _pattern(
        t["version"], "version", _VERSION,
        "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    )
    effective_at = _effective_at(t["effective_at"], "effective_at")
    language = _pattern(
        t["language"], "language", _LANGUAGE, "must be a BCP 47 language tag such as fr"
    )
    zone_name = _time_zone(t.get("time_zone"))
    url = _url(t["url"], "url")
    controller = _controller(t["controller"])
    dpo_email = _email(t["dpo_email"], "dpo_email")
    minimum_age = _int(
        t["minimum_age"], "minimum_age", _MIN_AGE, _MAX_AGE,
        "must be between 13 and 16 (GDPR Art. 8(1))",
    )
    joint = t.get("joint_consent_age")
    joint_consent_age = None if joint is None else _int(
        joint, "joint_consent_age", _MIN_AGE, minimum_age,
        "must be between 13 and minimum_age (joint consent applies below the age of consent)",
    )
    breach_hours = _int(
        t["breach_notification_hours"], "breach_notification_hours", 1, _MAX_BREACH_HOURS,
        "must be between 1 and 72 hours (GDPR Art. 33(1))",
    )
    response_months = _int(
        t["rights_response_months"], "rights_response_months",
        _RESPONSE_MONTHS, _RESPONSE_MONTHS, "must be 1 month (GDPR Art. 12(3))",
    )
    extension_months = _int(
        t["rights_extension_months"], "rights_extension_months", 0, _MAX_EXTENSION_MONTHS,
        "must be between 0 and 2 months (GDPR Art. 12(3))",
    )
    categories = _categories(t["categories"])
    purposes = _purposes(t["purposes"], categories)
    recipients = _recipients(_or_empty(t.get("recipients")), purposes)
    transfers = _transfers(_or_empty(t.get("transfers")), recipients)
    return Policy(
        id=ident,
        version=version,
        effective_at=effective_at,
        language=language,
        time_zone=zone_name,
        url=url,
        controller=controller,
        dpo_email=dpo_email,
        minimum_age=minimum_age,
        joint_consent_age=joint_consent_age,
        breach_notification_hours=breach_hours,
        rights_response_months=response_months,
        rights_extension_months=extension_months,
        purposes=purposes,
        categories=categories,
        recipients=recipients,
        transfers=transfers,
        security_measures=_texts(t["security_measures"], "security_measures"),
        subject_categories=_ids(t["subject_categories"], "subject_categories"),
        erasure_grace=_erasure_grace(t.get("erasure_grace")),
        access_reason_required=_bool(t.get("access_reason_required", False),
                                     "access_reason_required"),
    )


def _time_zone(value: object) -> str:
    """The policy's IANA time zone; absent (or null in JSON): ``UTC``, see the module doc."""
    if value is None:
        return periods.DEFAULT_TIME_ZONE
    if not isinstance(value, str):
        raise PolicyError("time_zone", "must be a string: an IANA time zone name such as "
                                       "Europe/Paris")
    try:
        periods.time_zone(value)
    except ValueError as exc:
        raise PolicyError("time_zone", str(exc)) from None
    return value


DEFAULT_ERASURE_GRACE = "P30D"


def _erasure_grace(value: object) -> str | None:
    """An optional period of at most one month (P1M or P31D): "without undue delay"."""
    if value is None:
        return None
    months, days = _period(value, "erasure_grace")
    if months > 1 or (months == 1 and days) or days > 31:
        raise PolicyError("erasure_grace", "must be at most P1M or P31D (GDPR Art. 17(1): "
                                           "without undue delay; Art. 12(3): one month)")
    return str(value)


def _or_empty(value: object) -> object:
    """An absent (TOML) or null (JSON) optional array is an empty one."""
    return [] if value is None else value


def _controller(value: object) -> Controller:
    t = _table(value, "controller", ("name", "address", "email", "url"))
    return Controller(
        name=_text(t["name"], "controller.name"),
        address=_text(t["address"], "controller.address"),
        email=_email(t["email"], "controller.email"),
        url=_url(t["url"], "controller.url"),
    )


def _check_ids(ids: Iterable[str], field: str) -> None:
    seen: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if ident in seen:
            raise PolicyError(f"{field}[{i}].id", f"duplicates {field}[{seen[ident]}].id")
        seen[ident] = i


def _retention(t: Mapping[str, object], path: str) -> str | None:
    value = t.get("retention")
    if value is None:
        return None
    _period(value, f"{path}.retention")
    assert isinstance(value, str)  # noqa: S101 - established by _period
    return value


def _consent_validity(t: Mapping[str, object], path: str, consent_required: bool) -> str | None:
    """How long a consent stays valid (CNIL 2020-092: ask cookie choices again after a
    period); only a consent-based purpose has one."""
    value = t.get("consent_validity")
    if value is None:
        return None
    if not consent_required:
        raise PolicyError(f"{path}.consent_validity",
                          "is only for a purpose whose legal_basis is consent")
    _period(value, f"{path}.consent_validity")
    assert isinstance(value, str)  # noqa: S101 - established by _period
    return value


def _categories(value: object) -> tuple[Category, ...]:
    items = _array(value, "categories")
    if not items:
        raise PolicyError("categories", "must not be empty")
    out: list[Category] = []
    for i, item in enumerate(items):
        path = f"categories[{i}]"
        t = _table(
            item, path, ("id", "name", "description", "fields", "from_trackers", "source"),
            ("retention",),
        )
        out.append(Category(
            id=_ident(t["id"], f"{path}.id"),
            name=_text(t["name"], f"{path}.name"),
            description=_text(t["description"], f"{path}.description", multiline=True),
            fields=_ids(t["fields"], f"{path}.fields"),
            from_trackers=_bool(t["from_trackers"], f"{path}.from_trackers"),
            retention=_retention(t, path),
            source=_text(t["source"], f"{path}.source"),
        ))
    _check_ids((c.id for c in out), "categories")
    return tuple(out)


def _purposes(value: object, categories: tuple[Category, ...]) -> tuple[Purpose, ...]:
    items = _array(value, "purposes")
    if not items:
        raise PolicyError("purposes", "must not be empty")
    by_id = {c.id: c for c in categories}
    out: list[Purpose] = []
    for i, item in enumerate(items):
        path = f"purposes[{i}]"
        t = _table(
            item, path, ("id", "name", "description", "legal_basis", "categories", "source"),
            ("consent_required", "retention", "consent_validity"),
        )
        ident = _ident(t["id"], f"{path}.id")
        name = _text(t["name"], f"{path}.name")
        description = _text(t["description"], f"{path}.description", multiline=True)
        basis = t["legal_basis"]
        if not isinstance(basis, str) or basis not in LEGAL_BASES:
            raise PolicyError(
                f"{path}.legal_basis",
                f"must be one of {', '.join(LEGAL_BASES)} (GDPR Art. 6(1)(a)-(f))",
            )
        consent_required = basis == "consent"
        stated = t.get("consent_required")
        if stated is not None and _bool(stated, f"{path}.consent_required") != consent_required:
            raise PolicyError(
                f"{path}.consent_required",
                "must be true exactly when legal_basis is consent",
            )
        cited = _ids(t["categories"], f"{path}.categories")
        retention = _retention(t, path)
        for j, cat in enumerate(cited):
            if cat not in by_id:
                raise PolicyError(f"{path}.categories[{j}]", "names no category of the policy")
            if retention is None and by_id[cat].retention is None:
                raise PolicyError(
                    f"{path}.retention",
                    f"is required: category {cat} sets no retention either "
                    "(GDPR Art. 5(1)(e))",
                )
        out.append(Purpose(
            id=ident,
            name=name,
            description=description,
            legal_basis=basis,
            consent_required=consent_required,
            categories=cited,
            retention=retention,
            source=_text(t["source"], f"{path}.source"),
            consent_validity=_consent_validity(t, path, consent_required),
        ))
    _check_ids((p.id for p in out), "purposes")
    cited_anywhere = {c for p in out for c in p.categories}
    for i, c in enumerate(categories):
        if c.id not in cited_anywhere:
            raise PolicyError(
                f"categories[{i}].id",
                "is cited by no purpose (data needs a purpose, GDPR Art. 5(1)(b))",
            )
    return tuple(out)


def _recipients(value: object, purposes: tuple[Purpose, ...]) -> tuple[Recipient, ...]:
    items = _array(value, "recipients")
    known = {p.id for p in purposes}
    out: list[Recipient] = []
    for i, item in enumerate(items):
        path = f"recipients[{i}]"
        t = _table(item, path, ("id", "name", "kind", "country", "purposes", "source"))
        ident = _ident(t["id"], f"{path}.id")
        name = _text(t["name"], f"{path}.name")
        kind = t["kind"]
        if not isinstance(kind, str) or kind not in RECIPIENT_KINDS:
            raise PolicyError(
                f"{path}.kind", f"must be one of {', '.join(sorted(RECIPIENT_KINDS))}"
            )
        country = _country(t["country"], f"{path}.country")
        cited = _ids(t["purposes"], f"{path}.purposes")
        for j, purpose in enumerate(cited):
            if purpose not in known:
                raise PolicyError(f"{path}.purposes[{j}]", "names no purpose of the policy")
        out.append(Recipient(
            id=ident, name=name, kind=kind, country=country, purposes=cited,
            source=_text(t["source"], f"{path}.source"),
        ))
    _check_ids((r.id for r in out), "recipients")
    return tuple(out)


def _country(value: object, field: str) -> str:
    if not is_country_code(value):
        raise PolicyError(
            field,
            "must be an ISO 3166-1 alpha-2 code in upper case (Greece is GR, "
            "the United Kingdom GB)",
        )
    assert isinstance(value, str)  # noqa: S101 - established by is_country_code
    return value


def _transfers(value: object, recipients: tuple[Recipient, ...]) -> tuple[Transfer, ...]:
    items = _array(value, "transfers")
    by_id = {r.id: r for r in recipients}
    out: list[Transfer] = []
    for i, item in enumerate(items):
        path = f"transfers[{i}]"
        t = _table(item, path, ("recipient", "country", "safeguard", "source"))
        recipient = _ident(t["recipient"], f"{path}.recipient")
        if recipient not in by_id:
            raise PolicyError(f"{path}.recipient", "names no recipient of the policy")
        country = _country(t["country"], f"{path}.country")
        if not is_outside_eea(country):
            raise PolicyError(
                f"{path}.country",
                "is inside the EEA: sending data there is not a transfer (GDPR Chapter V)",
            )
        safeguard = t["safeguard"]
        if not isinstance(safeguard, str) or safeguard not in TRANSFER_SAFEGUARDS:
            raise PolicyError(
                f"{path}.safeguard", f"must be one of {', '.join(TRANSFER_SAFEGUARDS)}"
            )
        for j, other in enumerate(out):
            if (other.recipient, other.country) == (recipient, country):
                raise PolicyError(path, f"repeats transfers[{j}] (same recipient and country)")
        out.append(Transfer(
            recipient=recipient, country=country, safeguard=safeguard,
            source=_text(t["source"], f"{path}.source"),
        ))
    covered = {(t.recipient, t.country) for t in out}
    for i, r in enumerate(recipients):
        if is_outside_eea(r.country) and (r.id, r.country) not in covered:
            raise PolicyError(
                f"recipients[{i}].country",
                "is outside the EEA: a transfer with its safeguard must be declared "
                "(GDPR Art. 44)",
            )
    return tuple(out)
