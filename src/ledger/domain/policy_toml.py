"""Reading a policy: TOML text or file (or the JSON form published into the ledger)
to a validated :class:`~ledger.domain.policy.Policy`; the bundled XP² cloud policy.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ledger.domain import periods
from ledger.domain.policy import Policy
from ledger.domain.policy_sections import (
    _categories,
    _controller,
    _or_empty,
    _purposes,
    _recipients,
    _transfers,
)
from ledger.domain.policy_terms import period_of
from ledger.domain.policy_values import (
    _LANGUAGE,
    _VERSION,
    _bool,
    _effective_at,
    _email,
    _ident,
    _ids,
    _int,
    _pattern,
    _table,
    _texts,
    _url,
)
from ledger.errors import PolicyError

__all__ = ["bundled_policy", "load_policy", "policy_from_data"]

_MIN_AGE = 13  # GDPR Art. 8(1): Member States may lower 16, not below 13
_MAX_AGE = 16
_MAX_BREACH_HOURS = 72  # GDPR Art. 33(1)
_MAX_EXTENSION_MONTHS = 2  # GDPR Art. 12(3)
_RESPONSE_MONTHS = 1  # GDPR Art. 12(3)


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
    return policy_from_data(data)


_POLICY_KEYS = (
    "id", "version", "effective_at", "language", "url", "controller", "dpo_email",
    "minimum_age", "breach_notification_hours", "rights_response_months",
    "rights_extension_months", "purposes", "categories", "security_measures",
    "subject_categories",
)
_POLICY_OPTIONAL = ("joint_consent_age", "recipients", "transfers", "time_zone",
                    "erasure_grace", "access_reason_required")


def policy_from_data(data: object) -> Policy:
    """A validated policy from its TOML tables or its published JSON form; the first
    defect, in the order of the keys below, raises PolicyError."""
    t = _table(data, "", _POLICY_KEYS, _POLICY_OPTIONAL)
    fields = _identity(t) | _ages_and_deadlines(t)
    categories = _categories(t["categories"])
    purposes = _purposes(t["purposes"], categories)
    recipients = _recipients(_or_empty(t.get("recipients")), purposes)
    transfers = _transfers(_or_empty(t.get("transfers")), recipients)
    return Policy(
        **fields,
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


def _identity(t: Mapping[str, object]) -> dict[str, Any]:
    """Who publishes the policy, which version, from when, in which language and zone."""
    return {
        "id": _ident(t["id"], "id"),
        "version": _pattern(
            t["version"], "version", _VERSION,
            "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        ),
        "effective_at": _effective_at(t["effective_at"], "effective_at"),
        "language": _pattern(
            t["language"], "language", _LANGUAGE, "must be a BCP 47 language tag such as fr"
        ),
        "time_zone": _time_zone(t.get("time_zone")),
        "url": _url(t["url"], "url"),
        "controller": _controller(t["controller"]),
        "dpo_email": _email(t["dpo_email"], "dpo_email"),
    }


def _ages_and_deadlines(t: Mapping[str, object]) -> dict[str, Any]:
    """The age of consent and the GDPR deadlines (Art. 8(1), 12(3), 33(1))."""
    minimum_age = _int(
        t["minimum_age"], "minimum_age", _MIN_AGE, _MAX_AGE,
        "must be between 13 and 16 (GDPR Art. 8(1))",
    )
    joint = t.get("joint_consent_age")
    return {
        "minimum_age": minimum_age,
        "joint_consent_age": None if joint is None else _int(
            joint, "joint_consent_age", _MIN_AGE, minimum_age,
            "must be between 13 and minimum_age (joint consent applies below the age of "
            "consent)",
        ),
        "breach_notification_hours": _int(
            t["breach_notification_hours"], "breach_notification_hours", 1, _MAX_BREACH_HOURS,
            "must be between 1 and 72 hours (GDPR Art. 33(1))",
        ),
        "rights_response_months": _int(
            t["rights_response_months"], "rights_response_months",
            _RESPONSE_MONTHS, _RESPONSE_MONTHS, "must be 1 month (GDPR Art. 12(3))",
        ),
        "rights_extension_months": _int(
            t["rights_extension_months"], "rights_extension_months", 0, _MAX_EXTENSION_MONTHS,
            "must be between 0 and 2 months (GDPR Art. 12(3))",
        ),
    }


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


def _erasure_grace(value: object) -> str | None:
    """An optional period of at most one month (P1M or P31D): "without undue delay"."""
    if value is None:
        return None
    months, days = period_of(value, "erasure_grace")
    if months > 1 or (months == 1 and days) or days > 31:
        raise PolicyError("erasure_grace", "must be at most P1M or P31D (GDPR Art. 17(1): "
                                           "without undue delay; Art. 12(3): one month)")
    return str(value)
