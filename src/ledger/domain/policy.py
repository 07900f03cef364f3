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
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from ledger.domain import periods
from ledger.domain.policy_terms import (
    EEA_COUNTRIES,
    ISO_COUNTRIES,
    LEGAL_BASES,
    RECIPIENT_KINDS,
    TRANSFER_SAFEGUARDS,
    add_period,
    is_country_code,
    is_outside_eea,
    parse_period,
)
from ledger.trust.canonical import format_time

# The module is the policy's model; its vocabulary (countries, periods) lives in
# policy_terms and its reading in policy_toml (with policy_values and policy_sections).
# Every name it exported before the split is still importable from here.
__all__ = [
    "DEFAULT_ERASURE_GRACE",
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

#: the time allowed to erase when a policy sets no ``erasure_grace`` (docs/POLICY.md)
DEFAULT_ERASURE_GRACE = "P30D"


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
            "purposes": [_purpose_json(p) for p in self.purposes],
            "categories": [_category_json(c) for c in self.categories],
            "recipients": [_recipient_json(r) for r in self.recipients],
            "transfers": [_transfer_json(t) for t in self.transfers],
            "security_measures": list(self.security_measures),
            "subject_categories": list(self.subject_categories),
        }

    @classmethod
    def from_json(cls, d: object) -> Policy:
        """Rebuild (and re-validate) a policy from :meth:`to_json` output."""
        from ledger.domain.policy_toml import policy_from_data  # noqa: PLC0415 - it imports this module

        return policy_from_data(d)


def _purpose_json(p: Purpose) -> dict[str, object]:
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "legal_basis": p.legal_basis,
        "consent_required": p.consent_required,
        "categories": list(p.categories),
        "retention": p.retention,
        "source": p.source,
        # only when set: policies published without it keep their digest
        **({"consent_validity": p.consent_validity} if p.consent_validity is not None else {}),
    }


def _category_json(c: Category) -> dict[str, object]:
    return {
        "id": c.id,
        "name": c.name,
        "description": c.description,
        "fields": list(c.fields),
        "from_trackers": c.from_trackers,
        "retention": c.retention,
        "source": c.source,
    }


def _recipient_json(r: Recipient) -> dict[str, object]:
    return {
        "id": r.id,
        "name": r.name,
        "kind": r.kind,
        "country": r.country,
        "purposes": list(r.purposes),
        "source": r.source,
    }


def _transfer_json(t: Transfer) -> dict[str, object]:
    return {"recipient": t.recipient, "country": t.country, "safeguard": t.safeguard,
            "source": t.source}


def policy_digest(p: Policy) -> str:
    """Lowercase hex SHA-256 of the policy's sorted, compact JSON form."""
    text = json.dumps(p.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def load_policy(source: str | bytes | Path) -> Policy:
    """Load and validate a policy: a :class:`~pathlib.Path` to a TOML file, or TOML text
    (:func:`ledger.domain.policy_toml.load_policy`)."""
    from ledger.domain.policy_toml import load_policy as load  # noqa: PLC0415 - it imports this module

    return load(source)


def bundled_policy() -> Policy:
    """The default policy shipped with the ledger: XP² cloud's of 14 May 2022."""
    from ledger.domain.policy_toml import bundled_policy as bundled  # noqa: PLC0415 - likewise

    return bundled()
