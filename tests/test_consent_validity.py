"""Consent that lapses (the policy's ``consent_validity``), evidence on every choice, and
the notices people saw (``NoticePublished``): rules and register, on both databases."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.app.application import ERASED, Ledger
from ledger.domain.policy import Policy, add_period, bundled_policy, load_policy, policy_digest
from ledger.errors import InputError, PolicyError, RuleViolation
from ledger.trust.canonical import format_time
from projections.queries import Reader
from tests.conftest import Clock
from tests.test_erasure import everything_stored

SUBJECT = "lea.petit@example.fr"
GIVEN = "2024-04-10T10:00:00Z"  # 12:00 in Paris; summer time on both sides of +6 months
LAPSE = "2024-10-10T10:00:00.000000Z"  # GIVEN + P6M (the bundled cookie validity)
JUST_BEFORE = "2024-10-10T09:59:59.999999Z"
BANNER = ("Nous utilisons des cookies de mesure d'audience.\n"
          "Acceptez-vous ? « Tout accepter » / « Tout refuser »")


def ev(type_: str, at: str, subject: str | None = SUBJECT, **data: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type_, "occurred_at": at, "data": data}
    if subject is not None:
        out["subject"] = subject
    return out


def give(at: str = GIVEN, purpose: str = "cookies_audience", **data: Any) -> dict[str, Any]:
    return ev("ConsentGiven", at, purpose=purpose, method="banner", **data)


def collect(at: str, purpose: str = "cookies_audience") -> dict[str, Any]:
    category = "tracker_audience" if purpose.startswith("cookies") else "identification_contact"
    values = {"visitor_id": "vis-1"} if category == "tracker_audience" else {"email": SUBJECT}
    return ev("DataCollected", at, category=category, purpose=purpose, source="cookie",
              values=values)


def notice(notice_id: str = "cookie-banner/v1", at: str = "2024-04-01T08:00:00Z",
           text: str = BANNER) -> dict[str, Any]:
    return ev("NoticePublished", at, None, notice_id=notice_id, kind="banner", language="fr",
              text=text)


@pytest.fixture
def late(ledger: Ledger, clock: Clock) -> Ledger:
    """The ledger with its clock in 2025, so every time of these tests is in the past."""
    clock.now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    return ledger


@pytest.fixture
def reader(late: Ledger, env: dict[str, str]) -> Iterator[Reader]:
    r = Reader(late.url or "", late.name, env=env)
    yield r
    r.close()


def refused(ledger: Ledger, events: list[dict[str, Any]]) -> RuleViolation:
    head = ledger.head()
    with pytest.raises(RuleViolation) as err:
        ledger.append(events)
    assert ledger.head() == head  # nothing stored
    return err.value


def status(reader: Reader, purpose: str, as_of: str) -> dict[str, Any]:
    doc = reader.consent(SUBJECT, as_of=as_of)
    return next(p for p in doc["purposes"] if p["purpose"] == purpose)


# -- the policy field ---------------------------------------------------------------------
def test_bundled_policy_sets_six_months_on_cookie_consent_only() -> None:
    policy = bundled_policy()
    validity = {p.id: p.consent_validity for p in policy.purposes}
    assert validity["cookies_audience"] == "P6M" and validity["visitor_insights"] == "P6M"
    assert validity["recruitment"] is None  # not a tracker choice: no CNIL period
    assert all(v is None for p, v in validity.items()
               if not policy.purpose(p).consent_required)  # type: ignore[union-attr]
    assert Policy.from_json(policy.to_json()) == policy


def _toml_with(extra: str, purpose: str) -> str:
    text = (bundled_policy_path()).read_text(encoding="utf-8")
    marker = f'id = "{purpose}"\n'
    return text.replace(marker, marker + extra + "\n", 1)


def bundled_policy_path() -> Any:
    from importlib import resources

    return resources.files("ledger.domain.policies").joinpath("xp2cloud.toml")


def test_policy_refuses_bad_consent_validity() -> None:
    with pytest.raises(PolicyError) as err:
        load_policy(_toml_with('consent_validity = "P6M"', "contact_requests"))
    assert err.value.field == "purposes[8].consent_validity"
    assert "legal_basis is consent" in err.value.rule
    with pytest.raises(PolicyError) as err:
        load_policy(_toml_with('consent_validity = "6 months"', "recruitment"))
    assert err.value.field == "purposes[1].consent_validity"
    assert "ISO 8601" in err.value.rule


def test_a_policy_without_validity_keeps_its_json_and_digest() -> None:
    policy = bundled_policy()
    plain = dataclasses.replace(policy, purposes=tuple(
        dataclasses.replace(p, consent_validity=None) for p in policy.purposes))
    doc = plain.to_json()
    assert all("consent_validity" not in p for p in doc["purposes"])  # type: ignore[union-attr]
    assert policy_digest(Policy.from_json(doc)) == policy_digest(plain)


# -- validity: granted before, expired from the lapse ------------------------------------------
def test_validity_boundary_on_both_sides(late: Ledger, reader: Reader) -> None:
    assert format_time(add_period(datetime(2024, 4, 10, 10, tzinfo=UTC), "P6M")) == LAPSE
    late.append([give()])
    assert status(reader, "cookies_audience", JUST_BEFORE)["status"] == "granted"
    item = status(reader, "cookies_audience", LAPSE)
    assert item["status"] == "expired"
    assert item["since"] == item["expires_at"] == LAPSE
    assert item["given_at"] == "2024-04-10T10:00:00.000000Z"
    # the rule agrees with the register: collection just before is lawful, at the lapse not
    late.append([collect(JUST_BEFORE)])
    err = refused(late, [collect(LAPSE)])
    assert err.field == "data.purpose"
    assert "expired at 2024-10-10T10:00:00.000000Z" in err.rule
    assert "consent_validity" in err.rule


def test_renewal_restores_and_withdrawal_of_a_lapsed_consent_is_refused(
        late: Ledger, reader: Reader) -> None:
    late.append([give()])
    err = refused(late, [ev("ConsentWithdrawn", LAPSE, purpose="cookies_audience",
                            method="banner")])
    assert err.field == "data.purpose" and "expired" in err.rule
    assert "ConsentRefused" in err.rule  # how to record the person's wish instead
    late.append([ev("ConsentRefused", LAPSE, purpose="cookies_audience", method="settings")])
    assert status(reader, "cookies_audience", LAPSE)["status"] == "refused"
    renewed = "2024-11-02T09:00:00Z"
    late.append([give(renewed), collect("2024-11-02T09:00:01Z")])
    item = status(reader, "cookies_audience", "2024-11-03")
    assert item["status"] == "granted" and item["since"] == "2024-11-02T09:00:00.000000Z"
    assert item["expires_at"] == format_time(  # six months on the Paris calendar
        add_period(datetime(2024, 11, 2, 9, tzinfo=UTC), "P6M", bundled_policy().zone))
    assert item["expires_at"] == "2025-05-02T08:00:00.000000Z"  # 10:00 Paris, both dates
    late.append([ev("ConsentWithdrawn", "2024-12-01T09:00:00Z", purpose="cookies_audience",
                    method="settings")])
    assert status(reader, "cookies_audience", "2024-12-02")["status"] == "withdrawn"


def test_purpose_without_validity_does_not_lapse(late: Ledger, reader: Reader) -> None:
    late.append([give("2022-06-01T10:00:00Z", "recruitment", )])
    late.append([ev("DataCollected", "2025-05-01T10:00:00Z", category="identification_contact",
                    purpose="recruitment", source="subject", values={"email": SUBJECT})])
    item = status(reader, "recruitment", "2025-05-02")
    assert item["status"] == "granted" and item["expires_at"] is None


def test_validity_comes_from_the_policy_the_consent_cites(late: Ledger,
                                                          reader: Reader) -> None:
    later = bundled_policy_path().read_text(encoding="utf-8")
    later = later.replace('version = "2022-05-14"', 'version = "2024-05-01"', 1)
    later = later.replace("effective_at = 2022-05-14T00:00:00Z",
                          "effective_at = 2024-05-01T00:00:00Z", 1)
    later = later.replace('consent_validity = "P6M"', 'consent_validity = "P1M"')
    late.publish_policy(load_policy(later), occurred_at=datetime(2024, 4, 20, tzinfo=UTC))
    late.append([give()])  # under 2022-05-14: six months
    late.append([give("2024-06-01T10:00:00Z", "cookies_functional")])  # under 2024-05-01
    assert status(reader, "cookies_audience", "2024-09-01")["status"] == "granted"
    functional = status(reader, "cookies_functional", "2024-07-02")
    assert functional["status"] == "expired"
    assert functional["expires_at"] == "2024-07-01T10:00:00.000000Z"


# -- evidence on refusals and withdrawals --------------------------------------------------
def test_evidence_on_refusal_and_withdrawal_is_sealed_and_shredded(late: Ledger,
                                                                   db_url: str) -> None:
    secrets = {"given": "signed form #G-41", "withdrawn": "letter of withdrawal #W-9",
               "refused": "banner click #R-5 from 203.0.113.7"}
    late.append([give(evidence=secrets["given"]),
                 ev("ConsentWithdrawn", "2024-05-01T10:00:00Z", purpose="cookies_audience",
                    method="email", evidence=secrets["withdrawn"]),
                 ev("ConsentRefused", "2024-05-01T10:00:00Z", purpose="cookies_advertising",
                    method="banner", evidence={"click": secrets["refused"]})])
    blob = everything_stored(db_url)
    for secret in secrets.values():
        assert secret.encode() not in blob
    shown = {e["type"]: e["data"]["evidence"] for e in late.log(SUBJECT)}
    assert shown == {"ConsentGiven": secrets["given"], "ConsentWithdrawn": secrets["withdrawn"],
                     "ConsentRefused": {"click": secrets["refused"]}}
    late.erase(SUBJECT, ground="consent_withdrawn")
    shown = {e["type"]: e["data"].get("evidence") for e in late.log(SUBJECT)}
    assert shown == {"ConsentGiven": ERASED, "ConsentWithdrawn": ERASED,
                     "ConsentRefused": ERASED, "SubjectErased": None}
    assert late.verify().ok


# -- notices ----------------------------------------------------------------------------
def test_notice_published_with_its_digest_and_cited(late: Ledger) -> None:
    late.append([notice()])
    stored = [json.loads(r.state) for r in late.store.entries()][-1]
    assert stored["type"] == "NoticePublished" and stored["subject"] is None
    digest = hashlib.sha256(BANNER.encode("utf-8")).hexdigest()
    assert stored["payload"]["digest"] == digest
    assert stored["payload"]["text"] == BANNER  # clear: a banner is not personal data
    late.append([give(notice_id="cookie-banner/v1"),
                 ev("ConsentRefused", GIVEN, purpose="cookies_advertising", method="banner",
                    notice_id="cookie-banner/v1"),
                 ev("ConsentWithdrawn", "2024-05-01T10:00:00Z", purpose="cookies_audience",
                    method="banner", notice_id="cookie-banner/v1")])
    choices = [json.loads(r.state) for r in late.store.entries()][-3:]
    assert [c["payload"]["notice_id"] for c in choices] == ["cookie-banner/v1"] * 3
    assert [c["payload"]["notice_digest"] for c in choices] == [digest] * 3


def test_notice_citations_and_publications_that_are_refused(late: Ledger) -> None:
    err = refused(late, [give(notice_id="cookie-banner/v9")])
    assert err.field == "data.notice_id" and "NoticePublished" in err.rule
    # published in the same batch, after the choice's time: not seen by the person
    err = refused(late, [notice(at="2024-04-11T08:00:00Z"), give(notice_id="cookie-banner/v1")])
    assert err.field == "data.notice_id" and "after occurred_at" in err.rule
    late.append([notice()])
    for choice in (ev("ConsentRefused", GIVEN, purpose="cookies_audience", method="banner",
                      notice_id="nope"),
                   ev("ConsentWithdrawn", GIVEN, purpose="cookies_audience", method="banner",
                      notice_id="nope")):
        assert refused(late, [give("2024-04-10T09:00:00Z"), choice]).field == "data.notice_id"
    err = refused(late, [notice(text="Autre texte")])
    assert err.field == "data.notice_id" and "already published" in err.rule
    head = late.head()
    for bad, field in (({"kind": "popup"}, "data.kind"), ({"language": "French"}, "data.language"),
                       ({"digest": "00"}, "data.digest"), ({"text": "x" * 50_001}, "data.text")):
        raw = notice("other/v1")
        raw["data"].update(bad)
        with pytest.raises(InputError) as caught:
            late.append([raw])
        assert caught.value.field == field
    assert late.head() == head


def test_consent_register_shows_the_notice_seen(late: Ledger, reader: Reader) -> None:
    late.append([notice(), give(notice_id="cookie-banner/v1")])
    doc = reader.consent(SUBJECT, as_of="2024-05-01T00:00:00Z")
    item = next(p for p in doc["purposes"] if p["purpose"] == "cookies_audience")
    digest = hashlib.sha256(BANNER.encode("utf-8")).hexdigest()
    assert item["notice_id"] == "cookie-banner/v1" and item["notice_digest"] == digest
    assert item["history"][0]["notice_id"] == "cookie-banner/v1"
    seen = doc["notices"]["cookie-banner/v1"]
    assert seen["text"] == BANNER and seen["digest"] == digest and seen["kind"] == "banner"
    assert seen["language"] == "fr" and seen["seq"] == item["seq"] - 1
    # a rebuild projects the same
    reader.projector.rebuild(["consent"])
    assert reader.consent(SUBJECT, as_of="2024-05-01T00:00:00Z") == doc
    later = (datetime(2024, 10, 10, 10, tzinfo=UTC) + timedelta(days=1)).isoformat()
    assert status(reader, "cookies_audience", later)["notice_id"] == "cookie-banner/v1"


def test_validity_counts_on_the_policys_calendar_across_a_clock_change(
        late: Ledger, reader: Reader) -> None:
    """Given 3 March 2024 at 10:00 in Paris (09:00Z, winter time), six months end on
    3 September at 10:00 in Paris, which is 08:00Z in summer time: not 09:00Z as six
    months added to the UTC time would give."""
    late.append([give("2024-03-03T10:00:00+01:00")])
    assert status(reader, "cookies_audience", "2024-09-03T07:59:59.999999Z")["status"] \
        == "granted"
    lapsed = status(reader, "cookies_audience", "2024-09-03T08:00:00Z")
    assert lapsed["status"] == "expired"
    assert lapsed["expires_at"] == "2024-09-03T08:00:00.000000Z"
    error = refused(late, [collect("2024-09-03T08:30:00Z")])
    assert error.field == "data.purpose"
    late.append([collect("2024-09-03T07:30:00Z")])  # still in force: accepted
