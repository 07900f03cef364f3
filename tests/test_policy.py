"""Policy as data: the bundled XP² cloud policy, periods, and every validation rule."""

from __future__ import annotations

import json
import re
import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.domain.policy import (
    EEA_COUNTRIES,
    LEGAL_BASES,
    Category,
    Policy,
    Purpose,
    Recipient,
    Transfer,
    add_period,
    bundled_policy,
    is_outside_eea,
    load_policy,
    parse_period,
    policy_digest,
)
from ledger.errors import PolicyError

# ---------------------------------------------------------------------------
# The bundled XP² cloud policy


@pytest.fixture(scope="module")
def xp2() -> Policy:
    return bundled_policy()


def test_bundled_policy_identity(xp2: Policy) -> None:
    assert xp2.id == "xp2cloud"
    assert xp2.version == "2022-05-14"
    assert xp2.effective_at == datetime(2022, 5, 14, tzinfo=UTC)
    assert xp2.effective_at.utcoffset() == timedelta(0)
    assert xp2.language == "fr"
    assert xp2.controller.name == "XP² cloud"
    assert xp2.controller.address == "5, Place de la Pyramide, 92800 Puteaux, France"
    assert xp2.controller.email == "data@xp2cloud.com"
    assert xp2.controller.url == "https://www.xp2cloud.com"
    assert xp2.dpo_email == "data@xp2cloud.com"


def test_bundled_policy_round_trips(xp2: Policy) -> None:
    data = xp2.to_json()
    assert Policy.from_json(data) == xp2
    # through real JSON text as well, as it is stored in the ledger
    assert Policy.from_json(json.loads(json.dumps(data))) == xp2
    assert data["effective_at"] == "2022-05-14T00:00:00.000000Z"


def _walk(value: object) -> list[object]:
    out = [value]
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(k)
            out.extend(_walk(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(_walk(v))
    return out


def test_to_json_domain(xp2: Policy) -> None:
    data = xp2.to_json()
    key = re.compile(r"[a-z][a-z0-9_]*")

    def check(value: object) -> None:
        assert value is None or isinstance(value, str | int | bool | list | dict)
        assert not isinstance(value, float)
        if isinstance(value, dict):
            for k, v in value.items():
                assert isinstance(k, str)
                assert key.fullmatch(k), k
                check(v)
        if isinstance(value, list):
            for v in value:
                check(v)

    check(data)


def test_digest_is_sha256_of_sorted_compact_json(xp2: Policy) -> None:
    digest = policy_digest(xp2)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == policy_digest(bundled_policy())
    changed = replace(xp2, breach_notification_hours=24)
    assert policy_digest(changed) != digest


def test_tracker_data_kept_13_months(xp2: Policy) -> None:
    trackers = [c for c in xp2.categories if c.from_trackers]
    assert {c.id for c in trackers} == {
        "tracker_strictly_necessary", "tracker_functional", "tracker_audience",
        "tracker_advertising", "tracker_social_networks",
    }
    for c in trackers:
        assert c.retention == "P13M"
        assert "art. 5" in c.source
    collected = datetime(2022, 5, 14, 10, 0, tzinfo=UTC)
    deadline = xp2.retention_deadline(collected, "cookies_audience", "tracker_audience")
    assert deadline == datetime(2023, 6, 14, 10, 0, tzinfo=UTC)


def test_every_cited_pair_has_a_deadline(xp2: Policy) -> None:
    now = datetime(2024, 1, 31, tzinfo=UTC)
    for p in xp2.purposes:
        for c in p.categories:
            deadline = xp2.retention_deadline(now, p.id, c)
            assert deadline is not None
            assert deadline > now
            if xp2.category(c) is not None and xp2.category(c).from_trackers:  # type: ignore[union-attr]
                assert deadline <= add_period(now, "P13M")
    assert xp2.retention_deadline(now, "recruitment", "tracker_audience") is None
    assert xp2.retention_deadline(now, "nope", "application") is None


def test_breach_age_rights(xp2: Policy) -> None:
    assert xp2.breach_notification_hours == 72
    assert xp2.minimum_age == 16
    assert xp2.joint_consent_age == 15
    assert xp2.rights_response_months == 1
    assert xp2.rights_extension_months == 2


def test_no_transfer_outside_the_eea(xp2: Policy) -> None:
    assert xp2.transfers == ()
    assert xp2.recipients
    for r in xp2.recipients:
        assert not is_outside_eea(r.country)


def test_article_4_purposes_and_bases(xp2: Policy) -> None:
    expected = {
        "service_improvement": "legitimate_interests",
        "recruitment": "consent",
        "visitor_insights": "consent",
    }
    for pid, basis in expected.items():
        p = xp2.purpose(pid)
        assert p is not None
        assert p.legal_basis == basis
        assert p.source.startswith("art. 4")
    recruitment = xp2.purpose("recruitment")
    assert recruitment is not None
    assert recruitment.retention == "P2Y"
    assert recruitment.source.count("assumption:") == 1


def test_article_3_cookie_classes(xp2: Policy) -> None:
    expected = {
        "cookies_strictly_necessary": False,
        "cookies_functional": True,
        "cookies_audience": True,
        "cookies_advertising": True,
        "cookies_social_networks": True,
    }
    for pid, consent in expected.items():
        p = xp2.purpose(pid)
        assert p is not None
        assert p.consent_required is consent
        assert (p.legal_basis == "consent") is consent
        assert p.source.startswith("art. 3")
        assert all(xp2.category(c).from_trackers for c in p.categories)  # type: ignore[union-attr]


def test_article_8_recipients(xp2: Policy) -> None:
    kinds = {r.id: (r.kind, r.country) for r in xp2.recipients}
    assert kinds["management"] == ("internal", "FR")
    assert kinds["sales_team"] == ("internal", "FR")
    for pid in ("hosting", "maintenance_support", "logistics"):
        assert kinds[pid] == ("processor", "FR")
        recipient = xp2.recipient(pid)
        assert recipient is not None
        assert "assumption:" in recipient.source
    assert xp2.recipient("nobody") is None


def test_every_entry_has_a_source(xp2: Policy) -> None:
    entries: list[Purpose | Category | Recipient | Transfer] = [
        *xp2.purposes, *xp2.categories, *xp2.recipients, *xp2.transfers,
    ]
    for e in entries:
        assert e.source.startswith(("art. ", "assumption: ", "GDPR Art. ")), e


def test_consent_required_matches_basis(xp2: Policy) -> None:
    for p in xp2.purposes:
        assert p.consent_required is (p.legal_basis == "consent")
        assert p.legal_basis_iri == LEGAL_BASES[p.legal_basis]


def test_security_and_subjects(xp2: Policy) -> None:
    text = " ".join(xp2.security_measures)
    for needle in ("AES-256-GCM", "pseudonym", "hash chain", "art. 7", "art. 1"):
        assert needle in text
    assert {"site_visitors", "job_applicants", "prospects"} <= set(xp2.subject_categories)


def test_constants() -> None:
    assert list(LEGAL_BASES) == [
        "consent", "contract", "legal_obligation", "vital_interests", "public_task",
        "legitimate_interests",
    ]
    assert [iri[-1] for iri in LEGAL_BASES.values()] == list("abcdef")
    assert all(
        iri.startswith("https://w3id.org/dpv/legal/eu/gdpr#A6-1-") for iri in LEGAL_BASES.values()
    )
    assert len(EEA_COUNTRIES) == 30
    assert {"IS", "LI", "NO", "FR", "DE", "GR", "IE"} <= EEA_COUNTRIES
    assert not {"GB", "CH", "EL", "UK"} & EEA_COUNTRIES


@pytest.mark.parametrize(
    ("country", "outside"),
    [("FR", False), ("NO", False), ("RE", False), ("AX", False), ("US", True), ("GB", True),
     ("CH", True)],
)
def test_is_outside_eea(country: str, outside: bool) -> None:
    assert is_outside_eea(country) is outside


@pytest.mark.parametrize("country", ["fr", "UK", "EL", "XX", "FRA", ""])
def test_is_outside_eea_refuses_non_codes(country: str) -> None:
    with pytest.raises(PolicyError) as e:
        is_outside_eea(country)
    assert e.value.field == "country"


# ---------------------------------------------------------------------------
# Periods


@pytest.mark.parametrize(
    ("text", "expected"),
    [("P13M", (13, 0)), ("P2Y", (24, 0)), ("P30D", (0, 30)), ("P1Y6M", (18, 0)),
     ("P1Y2M3D", (14, 3)), ("P0Y1D", (0, 1)), ("P100Y", (1200, 0))],
)
def test_parse_period(text: str, expected: tuple[int, int]) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "P", "13M", "P1W", "PT1H", "P1DT1H", "P1.5Y", "P-1M", "p1m", "P1M ", " P1M", "P1D2M",
     "P0D", "P0Y0M", "P101Y", "P1Y\n", "P\u0661M", "P13m"],
)
def test_parse_period_refuses(text: str) -> None:
    with pytest.raises(PolicyError) as e:
        parse_period(text)
    assert e.value.field == "retention"


def test_parse_period_refuses_non_strings() -> None:
    with pytest.raises(PolicyError):
        parse_period(13)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "period", "expected"),
    [
        (datetime(2023, 1, 31), "P1M", datetime(2023, 2, 28)),
        (datetime(2024, 1, 31), "P1M", datetime(2024, 2, 29)),
        (datetime(2024, 2, 29), "P1Y", datetime(2025, 2, 28)),
        (datetime(2024, 2, 29), "P4Y", datetime(2028, 2, 29)),
        (datetime(2024, 3, 31), "P1M", datetime(2024, 4, 30)),
        (datetime(2024, 12, 15), "P1M", datetime(2025, 1, 15)),
        (datetime(2024, 11, 30), "P3M", datetime(2025, 2, 28)),
        (datetime(2022, 5, 14), "P13M", datetime(2023, 6, 14)),
        (datetime(2024, 1, 31), "P1M1D", datetime(2024, 3, 1)),
        (datetime(2024, 12, 31), "P1D", datetime(2025, 1, 1)),
        (datetime(2023, 1, 1), "P30D", datetime(2023, 1, 31)),
        (datetime(2024, 1, 1, 23, 59, 59, 999999), "P2Y", datetime(2026, 1, 1, 23, 59, 59, 999999)),
    ],
)
def test_add_period(start: datetime, period: str, expected: datetime) -> None:
    assert add_period(start, period) == expected
    aware = add_period(start.replace(tzinfo=UTC), period)
    assert aware == expected.replace(tzinfo=UTC)
    assert aware.tzinfo is UTC


def test_add_period_keeps_the_offset() -> None:
    paris = timezone(timedelta(hours=2))
    assert add_period(datetime(2024, 8, 31, 12, tzinfo=paris), "P6M") == datetime(
        2025, 2, 28, 12, tzinfo=paris
    )


def test_add_period_refuses_bad_period() -> None:
    with pytest.raises(PolicyError):
        add_period(datetime(2024, 1, 1, tzinfo=UTC), "1 month")


# ---------------------------------------------------------------------------
# Validation: one small policy, broken one rule at a time

BASE = """\
id = "demo"
version = "1.0"
effective_at = 2024-01-01T00:00:00Z
language = "en"
url = "https://example.org/privacy"
dpo_email = "dpo@example.org"
minimum_age = 16
joint_consent_age = 15
breach_notification_hours = 72
rights_response_months = 1
rights_extension_months = 2
security_measures = ["encryption at rest"]
subject_categories = ["visitors"]

[controller]
name = "Example"
address = "1 rue de l'Exemple, 75001 Paris, France"
email = "contact@example.org"
url = "https://example.org"

[[categories]]
id = "contact"
name = "Contact data"
description = "Name and e-mail"
fields = ["name", "email"]
from_trackers = false
source = "art. 2"

[[categories]]
id = "cookies"
name = "Cookie data"
description = "Visitor id"
fields = ["visitor_id"]
from_trackers = true
retention = "P13M"
source = "art. 3"

[[purposes]]
id = "newsletter"
name = "Newsletter"
description = "Sending the newsletter"
legal_basis = "consent"
categories = ["contact"]
retention = "P3Y"
source = "art. 4"

[[purposes]]
id = "audience"
name = "Audience measurement"
description = "Counting visitors"
legal_basis = "legitimate_interests"
categories = ["cookies"]
source = "art. 4"

[[recipients]]
id = "host"
name = "Hosting provider"
kind = "processor"
country = "FR"
purposes = ["newsletter", "audience"]
source = "art. 8"
"""

TRANSFER = """
[[transfers]]
recipient = "host"
country = "US"
safeguard = "standard_contractual_clauses"
source = "art. 8"
"""

EXTRA_CATEGORY = """
[[categories]]
id = "orphan"
name = "Orphan"
description = "Nobody uses it"
fields = ["x"]
from_trackers = false
retention = "P1Y"
source = "art. 2"
"""


def edit(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_base_is_valid() -> None:
    p = load_policy(BASE)
    assert load_policy(BASE.encode()) == p
    assert Policy.from_json(p.to_json()) == p
    newsletter = p.purpose("newsletter")
    audience = p.purpose("audience")
    assert newsletter is not None
    assert audience is not None
    assert newsletter.consent_required
    assert not audience.consent_required


def test_load_from_path(tmp_path: Path) -> None:
    path = tmp_path / "demo.toml"
    path.write_text(BASE, encoding="utf-8")
    assert load_policy(path) == load_policy(BASE)


def test_optional_parts_may_be_left_out() -> None:
    text = BASE[: BASE.index("[[recipients]]")]
    text = edit("joint_consent_age = 15\n", "", text)
    p = load_policy(text)
    assert p.recipients == ()
    assert p.transfers == ()
    assert p.joint_consent_age is None
    assert Policy.from_json(p.to_json()) == p


def test_consent_required_may_be_stated_when_it_agrees() -> None:
    text = edit('legal_basis = "consent"\n', 'legal_basis = "consent"\nconsent_required = true\n')
    newsletter = load_policy(text).purpose("newsletter")
    assert newsletter is not None
    assert newsletter.consent_required


def test_transfer_outside_the_eea_with_safeguard() -> None:
    text = edit('country = "FR"', 'country = "US"') + TRANSFER
    p = load_policy(text)
    assert p.transfers[0].country == "US"
    assert Policy.from_json(p.to_json()) == p


def test_effective_at_is_converted_to_utc() -> None:
    p = load_policy(edit("2024-01-01T00:00:00Z", "2024-01-01T02:00:00+02:00"))
    assert p.effective_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert p.effective_at.tzinfo is UTC


CASES: list[tuple[str, str, str, str, str]] = [
    # (name, old, new, field, rule fragment)
    ("missing top-level key", "minimum_age = 16\n", "", "minimum_age", "is required"),
    ("missing purpose key", 'source = "art. 4"\n\n[[purposes]]', "[[purposes]]",
     "purposes[0].source", "is required"),
    ("missing controller key", 'email = "contact@example.org"\n', "", "controller.email",
     "is required"),
    ("unknown top-level key", 'id = "demo"\n', 'id = "demo"\nminimun_age = 16\n', "minimun_age",
     "unknown key"),
    ("unknown purpose key", 'legal_basis = "consent"', 'legal_basis = "consent"\nretension = "P1Y"',
     "purposes[0].retension", "unknown key"),
    ("unknown controller key", 'name = "Example"', 'name = "Example"\nphone = "1"',
     "controller.phone", "unknown key"),
    ("unknown recipient key", 'kind = "processor"', 'kind = "processor"\ncountries = ["FR"]',
     "recipients[0].countries", "unknown key"),
    ("string for integer", "minimum_age = 16", 'minimum_age = "16"', "minimum_age",
     "must be an integer"),
    ("bool for integer", "minimum_age = 16", "minimum_age = true", "minimum_age",
     "must be an integer"),
    ("float for integer", "breach_notification_hours = 72", "breach_notification_hours = 72.0",
     "breach_notification_hours", "must be an integer"),
    ("integer for bool", "from_trackers = false", "from_trackers = 0",
     "categories[0].from_trackers", "must be true or false"),
    ("string for array", 'fields = ["visitor_id"]', 'fields = "visitor_id"',
     "categories[1].fields", "must be an array"),
    ("integer for string", 'name = "Newsletter"', "name = 1", "purposes[0].name",
     "must be a string"),
    ("table for controller", "[controller]", "[controller.sub]", "controller.sub", "unknown key"),
    ("empty string", 'name = "Newsletter"', 'name = "  "', "purposes[0].name", "must not be empty"),
    ("control character", 'name = "Newsletter"', 'name = "News\\u0007letter"', "purposes[0].name",
     "control characters"),
    ("duplicate category id", 'id = "cookies"', 'id = "contact"', "categories[1].id",
     "duplicates categories[0].id"),
    ("duplicate purpose id", 'id = "audience"', 'id = "newsletter"', "purposes[1].id",
     "duplicates purposes[0].id"),
    ("bad id", 'id = "newsletter"', 'id = "News-letter"', "purposes[0].id",
     "must match [a-z][a-z0-9_]*"),
    ("bad policy id", 'id = "demo"', 'id = "1demo"', "id", "must match"),
    ("bad field id", 'fields = ["name", "email"]', 'fields = ["name", "e mail"]',
     "categories[0].fields[1]", "must match"),
    ("repeated field", 'fields = ["name", "email"]', 'fields = ["name", "name"]',
     "categories[0].fields[1]", "repeats categories[0].fields[0]"),
    ("empty fields", 'fields = ["visitor_id"]', "fields = []", "categories[1].fields",
     "must not be empty"),
    ("unknown category", 'categories = ["contact"]', 'categories = ["contacts"]',
     "purposes[0].categories[0]", "names no category"),
    ("purpose without categories", 'categories = ["contact"]', "categories = []",
     "purposes[0].categories", "must not be empty"),
    ("unknown purpose", 'purposes = ["newsletter", "audience"]',
     'purposes = ["newsletter", "audiance"]', "recipients[0].purposes[1]", "names no purpose"),
    ("bad legal basis", 'legal_basis = "consent"', 'legal_basis = "consentement"',
     "purposes[0].legal_basis", "must be one of consent, contract"),
    ("consent_required contradicts basis", 'legal_basis = "consent"',
     'legal_basis = "consent"\nconsent_required = false', "purposes[0].consent_required",
     "exactly when legal_basis is consent"),
    ("consent_required on another basis", 'legal_basis = "legitimate_interests"',
     'legal_basis = "legitimate_interests"\nconsent_required = true',
     "purposes[1].consent_required", "exactly when legal_basis is consent"),
    ("bad kind", 'kind = "processor"', 'kind = "vendor"', "recipients[0].kind",
     "must be one of authority, internal, processor, third_party"),
    ("lower-case country", 'country = "FR"', 'country = "fr"', "recipients[0].country",
     "ISO 3166-1 alpha-2"),
    ("UK is not ISO", 'country = "FR"', 'country = "UK"', "recipients[0].country",
     "the United Kingdom GB"),
    ("unassigned country", 'country = "FR"', 'country = "XX"', "recipients[0].country",
     "ISO 3166-1 alpha-2"),
    ("period in words", 'retention = "P3Y"', 'retention = "3 years"', "purposes[0].retention",
     "ISO 8601 duration"),
    ("period in weeks", 'retention = "P3Y"', 'retention = "P3W"', "purposes[0].retention",
     "ISO 8601 duration"),
    ("period with time", 'retention = "P13M"', 'retention = "P13MT1H"', "categories[1].retention",
     "ISO 8601 duration"),
    ("zero period", 'retention = "P3Y"', 'retention = "P0D"', "purposes[0].retention",
     "longer than zero"),
    ("huge period", 'retention = "P3Y"', 'retention = "P999Y"', "purposes[0].retention",
     "100 years"),
    ("integer period", 'retention = "P3Y"', "retention = 3", "purposes[0].retention",
     "ISO 8601 duration"),
    ("no retention anywhere", 'retention = "P3Y"\n', "", "purposes[0].retention",
     "category contact sets no retention"),
    ("minimum age too low", "minimum_age = 16", "minimum_age = 12", "minimum_age",
     "between 13 and 16"),
    ("minimum age too high", "minimum_age = 16", "minimum_age = 18", "minimum_age",
     "between 13 and 16"),
    ("joint age above minimum", "joint_consent_age = 15", "joint_consent_age = 17",
     "joint_consent_age", "between 13 and minimum_age"),
    ("breach hours zero", "breach_notification_hours = 72", "breach_notification_hours = 0",
     "breach_notification_hours", "between 1 and 72"),
    ("breach hours negative", "breach_notification_hours = 72", "breach_notification_hours = -5",
     "breach_notification_hours", "between 1 and 72"),
    ("breach hours beyond Art. 33", "breach_notification_hours = 72",
     "breach_notification_hours = 96", "breach_notification_hours", "between 1 and 72"),
    ("response beyond one month", "rights_response_months = 1", "rights_response_months = 2",
     "rights_response_months", "must be 1 month"),
    ("extension beyond two months", "rights_extension_months = 2", "rights_extension_months = 3",
     "rights_extension_months", "between 0 and 2"),
    ("naive effective_at", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00", "effective_at",
     "time zone offset"),
    ("date effective_at", "2024-01-01T00:00:00Z", "2024-01-01", "effective_at", "not a date"),
    ("string effective_at", "2024-01-01T00:00:00Z", '"1 January 2024"', "effective_at",
     "offset date-time"),
    ("ancient effective_at", "2024-01-01T00:00:00Z", "0999-01-01T00:00:00Z", "effective_at",
     "between 1970 and 9999"),
    ("bad email", 'dpo_email = "dpo@example.org"', 'dpo_email = "dpo at example.org"',
     "dpo_email", "e-mail address"),
    ("bad url", 'url = "https://example.org"', 'url = "ftp://example.org"', "controller.url",
     "http:// or https:// URL"),
    ("bad language", 'language = "en"', 'language = "English"', "language", "BCP 47"),
    ("bad version", 'version = "1.0"', 'version = "one point oh"', "version", "letters, digits"),
    ("empty security measures", 'security_measures = ["encryption at rest"]',
     "security_measures = []", "security_measures", "must not be empty"),
    ("bad subject category", 'subject_categories = ["visitors"]',
     'subject_categories = ["Site visitors"]', "subject_categories[0]", "must match"),
    ("repeated subject category", 'subject_categories = ["visitors"]',
     'subject_categories = ["visitors", "visitors"]', "subject_categories[1]", "repeats"),
    ("outside the EEA without transfer", 'country = "FR"', 'country = "US"',
     "recipients[0].country", "a transfer with its safeguard must be declared"),
    ("recipients not an array", "[[recipients]]", "[recipients]", "recipients",
     "must be an array"),
]


@pytest.mark.parametrize(
    ("old", "new", "field", "rule"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_validation_rule(old: str, new: str, field: str, rule: str) -> None:
    with pytest.raises(PolicyError) as e:
        load_policy(edit(old, new))
    assert e.value.field == field
    assert rule in e.value.rule
    assert str(e.value) == f"policy {field}: {e.value.rule}"


APPENDED: list[tuple[str, str, str, str, str]] = [
    # (name, recipient country, appended TOML, field, rule fragment)
    ("transfer inside the EEA", "FR", TRANSFER.replace('"US"', '"DE"'), "transfers[0].country",
     "inside the EEA"),
    ("transfer to an outermost region", "FR", TRANSFER.replace('"US"', '"RE"'),
     "transfers[0].country", "inside the EEA"),
    ("transfer to unknown recipient", "US", TRANSFER.replace('"host"', '"cdn"'),
     "transfers[0].recipient", "names no recipient"),
    ("transfer with bad safeguard", "US",
     TRANSFER.replace("standard_contractual_clauses", "trust_us"), "transfers[0].safeguard",
     "must be one of adequacy_decision"),
    ("repeated transfer", "US", TRANSFER + TRANSFER, "transfers[1]", "repeats transfers[0]"),
    ("unknown transfer key", "US", TRANSFER + 'mechanism = "scc"\n', "transfers[0].mechanism",
     "unknown key"),
    ("category cited by no purpose", "FR", EXTRA_CATEGORY, "categories[2].id",
     "cited by no purpose"),
]


@pytest.mark.parametrize(
    ("country", "extra", "field", "rule"), [c[1:] for c in APPENDED], ids=[c[0] for c in APPENDED]
)
def test_validation_rule_appended(country: str, extra: str, field: str, rule: str) -> None:
    text = edit('country = "FR"', f'country = "{country}"') + extra
    with pytest.raises(PolicyError) as e:
        load_policy(text)
    assert e.value.field == field
    assert rule in e.value.rule


def test_invalid_toml() -> None:
    with pytest.raises(PolicyError) as e:
        load_policy(BASE + "\nid = 'again'\n")
    assert e.value.field == "toml"
    assert "not valid TOML" in e.value.rule


def test_invalid_utf8() -> None:
    with pytest.raises(PolicyError) as e:
        load_policy(BASE.encode() + b"# \xff\n")
    assert e.value.field == "toml"
    assert "UTF-8" in e.value.rule


def test_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as e:
        load_policy(tmp_path / "missing.toml")
    assert e.value.field == "source"


def test_lone_surrogate_refused() -> None:
    with pytest.raises(PolicyError) as e:
        load_policy(edit('name = "Newsletter"', 'name = "News\ud800letter"'))
    assert e.value.field == "purposes[0].name"
    assert "surrogates" in e.value.rule


def test_from_json_refuses_bad_documents() -> None:
    data = load_policy(BASE).to_json()
    with pytest.raises(PolicyError) as e:
        Policy.from_json([data])
    assert e.value.field == "policy"
    broken = dict(data, minimum_age=16.0)
    with pytest.raises(PolicyError) as e:
        Policy.from_json(broken)
    assert e.value.field == "minimum_age"
    broken = dict(data, effective_at="2024-01-01T00:00:00Z")
    with pytest.raises(PolicyError) as e:
        Policy.from_json(broken)
    assert e.value.field == "effective_at"
    broken = {k: v for k, v in data.items() if k != "purposes"}
    with pytest.raises(PolicyError) as e:
        Policy.from_json(broken)
    assert e.value.field == "purposes"


# ---------------------------------------------------------------------------
# Hypothesis: junk never raises anything but PolicyError


def _load_or_policy_error(source: str | bytes) -> None:
    try:
        p = load_policy(source)
    except PolicyError as e:
        assert e.field
        assert e.rule
        return
    assert Policy.from_json(p.to_json()) == p
    policy_digest(p)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_random_text_only_raises_policy_error(text: str) -> None:
    _load_or_policy_error(text)


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_random_bytes_only_raises_policy_error(data: bytes) -> None:
    _load_or_policy_error(data)


TOML_VALUES = st.one_of(
    st.sampled_from([
        '""', '"x"', '"P13M"', '"FR"', '"US"', '"consent"', '"contact"', "0", "-1", "16",
        "13", "72", "1.5", "inf", "nan", "true", "false", "[]", '["contact"]', "[1, 2]",
        "{}", '{ a = 1 }', "2024-01-01", "2024-01-01T00:00:00", "2024-01-01T00:00:00Z",
        "12:00:00", '"\\u0000"', '"\\ud7ff"', "[[]]", '"P0D"', '"p1y"', "9999999999999999999",
    ]),
    st.text(alphabet=string.printable, max_size=20).map(json.dumps),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_toml_only_raises_policy_error(data: st.DataObject) -> None:
    lines = BASE.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        action = data.draw(st.sampled_from(["value", "delete", "insert", "key"]))
        if action == "value" and " = " in line:
            key = line.split(" = ", 1)[0]
            lines[i] = f"{key} = {data.draw(TOML_VALUES)}"
        elif action == "delete":
            del lines[i]
        elif action == "insert":
            key = data.draw(st.sampled_from(["id", "retention", "legal_basis", "country",
                                             "consent_required", "x", "joint_consent_age"]))
            lines.insert(i, f"{key} = {data.draw(TOML_VALUES)}")
        elif action == "key" and " = " in line:
            value = line.split(" = ", 1)[1]
            lines[i] = f"{data.draw(st.from_regex(r'[a-z_]{1,12}', fullmatch=True))} = {value}"
        if not lines:
            break
    _load_or_policy_error("\n".join(lines) + "\n")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_json_only_raises_policy_error(data: st.DataObject) -> None:
    doc: object = bundled_policy().to_json()
    target = doc
    # walk down a random path, then replace one member by junk
    for _ in range(data.draw(st.integers(0, 3))):
        if isinstance(target, dict) and target:
            key = data.draw(st.sampled_from(sorted(target)))
            if isinstance(target[key], dict | list) and target[key]:
                target = target[key]
        elif isinstance(target, list) and target:
            nxt = target[data.draw(st.integers(0, len(target) - 1))]
            if isinstance(nxt, dict | list) and nxt:
                target = nxt
    if isinstance(target, dict):
        key = data.draw(st.sampled_from(sorted(target)) | st.text(max_size=8))
        target[key] = data.draw(JSON_VALUES)
    elif isinstance(target, list):
        target[data.draw(st.integers(0, len(target) - 1))] = data.draw(JSON_VALUES)
    try:
        p = Policy.from_json(doc)
    except PolicyError:
        return
    assert Policy.from_json(p.to_json()) == p


# ---------------------------------------------------------------------------
# The time zone: the controller's calendar (docs/POLICY.md, "Time zone and calendar")


def test_bundled_policy_counts_in_paris(xp2: Policy) -> None:
    assert xp2.time_zone == "Europe/Paris"
    assert xp2.to_json()["time_zone"] == "Europe/Paris"
    # 31 Jan 2026 00:30 in Paris = 30 Jan 23:30Z; 13 months on the Paris date = 28 Feb
    # 2027 00:30 Paris = 27 Feb 23:30Z (on the UTC date it would be 1 Mar 00:30 Paris)
    collected = datetime(2026, 1, 30, 23, 30, tzinfo=UTC)
    deadline = xp2.retention_deadline(collected, "cookies_audience", "tracker_audience")
    assert deadline == datetime(2027, 2, 27, 23, 30, tzinfo=UTC)
    # a request received 31 Mar 00:30 Paris is due 30 Apr 00:30 Paris
    assert xp2.period_end(datetime(2026, 3, 30, 22, 30, tzinfo=UTC), "P1M") == datetime(
        2026, 4, 29, 22, 30, tzinfo=UTC)


def test_time_zone_defaults_to_utc() -> None:
    p = load_policy(BASE)  # BASE names no time zone
    assert p.time_zone == "UTC"
    assert p.to_json()["time_zone"] == "UTC"
    collected = datetime(2026, 1, 30, 23, 30, tzinfo=UTC)
    assert p.retention_deadline(collected, "audience", "cookies") == datetime(
        2027, 2, 28, 23, 30, tzinfo=UTC)
    paris = load_policy(edit('language = "en"\n', 'language = "en"\ntime_zone = "Europe/Paris"\n'))
    assert paris.time_zone == "Europe/Paris"
    assert paris.retention_deadline(collected, "audience", "cookies") == datetime(
        2027, 2, 27, 23, 30, tzinfo=UTC)
    assert policy_digest(paris) != policy_digest(p)


def test_a_stored_policy_from_before_the_field_still_loads(xp2: Policy) -> None:
    # the JSON a ledger stored before time_zone existed: no such key
    old = xp2.to_json()
    del old["time_zone"]
    again = Policy.from_json(json.loads(json.dumps(old)))
    assert again.time_zone == "UTC"
    assert again == replace(xp2, time_zone="UTC")
    # and its periods keep the meaning they had: counted on the UTC date
    collected = datetime(2026, 1, 30, 23, 30, tzinfo=UTC)
    assert again.retention_deadline(collected, "cookies_audience", "tracker_audience") == \
        datetime(2027, 2, 28, 23, 30, tzinfo=UTC)
    # null, as a JSON writer spelling every optional key out would store it
    old["time_zone"] = None
    assert Policy.from_json(old).time_zone == "UTC"


@pytest.mark.parametrize("value", ['"Paris"', '"Europe/Pariss"', '"CET "', '""', '"+01:00"',
                                   '"../../etc/passwd"', "1", "true", '["Europe/Paris"]'])
def test_unknown_time_zone_is_refused(value: str) -> None:
    text = edit('language = "en"\n', f'language = "en"\ntime_zone = {value}\n')
    with pytest.raises(PolicyError) as e:
        load_policy(text)
    assert e.value.field == "time_zone"
    assert "IANA" in e.value.rule
    doc = load_policy(BASE).to_json()
    doc["time_zone"] = "Mars/Olympus_Mons"
    with pytest.raises(PolicyError) as e:
        Policy.from_json(doc)
    assert e.value.field == "time_zone"
