"""The vocabulary of a policy: legal bases, recipient kinds, safeguards, countries (ISO
3166-1, the EEA) and periods (ISO 8601 durations of years, months and days).

Used by the policy model (:mod:`ledger.domain.policy`), its TOML reading
(:mod:`ledger.domain.policy_toml`) and the event catalogue (country fields).
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from ledger.domain import periods
from ledger.errors import PolicyError

__all__ = [
    "EEA_COUNTRIES",
    "ISO_COUNTRIES",
    "LEGAL_BASES",
    "RECIPIENT_KINDS",
    "TRANSFER_SAFEGUARDS",
    "add_period",
    "is_country_code",
    "is_outside_eea",
    "parse_period",
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

_PERIOD = re.compile(r"P(?:([0-9]{1,3})Y)?(?:([0-9]{1,4})M)?(?:([0-9]{1,5})D)?")

_MAX_MONTHS = 100 * 12
_MAX_DAYS = 100 * 366


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
    return period_of(text, "retention")


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


def period_of(value: object, field: str) -> tuple[int, int]:
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
