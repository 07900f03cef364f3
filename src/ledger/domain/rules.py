"""Rules that need the policy in force or a stream's own history: ONE HANDLER PER EVENT
TYPE (:data:`RULES`), each runnable on in-memory state, without a database.

The append transaction (:mod:`ledger.app.append`) reads the folded state of each
stream a batch touches (:mod:`ledger.domain.state`), under the append lock, checks
each draft in batch order and folds the accepted draft in before the next one, so a
batch may give consent and collect under it.

Time rules are bitemporal: "consent in force" means in force at the draft's
``occurred_at``, from the events that occurred at or before it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.domain.events import Draft
from ledger.domain.policy import Policy, add_period, is_outside_eea
from ledger.domain.policy_book import PolicyBook
from ledger.domain.state import BreachState, Recorded, SubjectState
from ledger.errors import RuleViolation
from ledger.trust.canonical import format_time, parse_time

__all__ = ["RULES", "BreachState", "Check", "PolicyBook", "Recorded", "SubjectState",
           "check_draft", "consent_expiry", "consent_in_force", "notice_stream",
           "notice_streams", "stream_of"]


def stream_of(type_: str, subject: str | None, payload: dict[str, Any]) -> str | None:
    """The stream an event belongs to (its history key), or None."""
    if subject is not None:
        return subject
    if type_.startswith("Breach"):
        return f"breach/{payload['breach_id']}"
    if type_ == "PolicyPublished":
        return "policy"
    if type_ == "NoticePublished":
        return notice_stream(payload["notice_id"])
    return None


def notice_stream(notice_id: str) -> str:
    """The stream of one notice (its NoticePublished): ``notice/<id>``."""
    return f"notice/{notice_id}"


def notice_streams(drafts: Iterable[Draft]) -> set[str]:
    """The notice streams a batch needs: those its drafts publish or cite."""
    cited = (getattr(d.event, "notice_id", None) for d in drafts)
    return {notice_stream(n) for n in cited if n is not None}


def consent_expiry(policy: Policy | None, purpose: str, given_at: datetime) -> datetime | None:
    """When a consent to ``purpose`` given at ``given_at`` under ``policy`` lapses: given_at
    plus the purpose's ``consent_validity``, counted on the local date in the policy's
    time zone like every period (None: the policy sets no validity)."""
    p = policy.purpose(purpose) if policy is not None else None
    if policy is None or p is None or p.consent_validity is None:
        return None
    return policy.period_end(given_at, p.consent_validity)


def consent_in_force(subject: SubjectState, book: PolicyBook, purpose: str,
                     at: datetime) -> tuple[str, datetime | None]:
    """The consent state at ``at`` — granted, expired, withdrawn, refused or none — and,
    when expired, the moment it lapsed.  A consent given at T0 under a policy whose purpose
    has validity V is granted at T < T0 + V and expired at T ≥ T0 + V, unless a later
    choice (a renewal, a refusal, a withdrawal) occurred by T.  V is read from the policy
    the consent cites: what the person was told when they chose."""
    choice = subject.latest_choice(purpose, at)
    if choice is None:
        return "none", None
    given_at, _, state, version = choice
    if state == "granted":
        policy = book.version(version) if version else book.in_force(given_at)
        expires = consent_expiry(policy, purpose, given_at)
        if expires is not None and at >= expires:
            return "expired", expires
    return state, None


@dataclass
class Check:
    """What one handler reads: the draft, its payload (completed in place), the policies
    and the states of its streams."""

    d: Draft
    payload: dict[str, Any]
    book: PolicyBook
    subject: SubjectState
    breach: BreachState
    notices: Mapping[str, Recorded]


def check_draft(d: Draft, payload: dict[str, Any], *, book: PolicyBook,
                subject: SubjectState, breach: BreachState | None,
                notices: Mapping[str, Recorded] | None = None) -> None:
    """Check ``d`` against the policy and its stream; complete ``payload`` in place.

    ``payload`` is the draft's stored data before sealing; the rules may add
    derived members (the policy version in force, transfer flags, the breach
    discovery time).
    """
    handler = RULES.get(d.type)
    if handler is None:  # pragma: no cover
        raise AssertionError(d.type)
    handler(Check(d, payload, book, subject, breach or BreachState(), notices or {}))


def _fail(field_: str, rule: str) -> RuleViolation:
    return RuleViolation(field_, rule)


def _lapsed(expired_at: datetime | None) -> str:
    return f"; it expired at {format_time(expired_at)} (the purpose's consent_validity)" \
        if expired_at is not None else ""


def _policy_for(d: Draft, book: PolicyBook, payload: dict[str, Any]) -> Policy:
    policy = book.in_force(d.occurred_at)
    if policy is None:
        raise _fail("occurred_at", "no policy was in force at this time: publish one first "
                                   "(ledger policy publish)")
    cited = payload.get("policy_version")
    if cited is None:
        payload["policy_version"] = policy.version
    elif cited != policy.version:
        raise _fail("data.policy_version", f"must cite the policy in force at occurred_at "
                                           f"({policy.version})")
    return policy


def _purpose(policy: Policy, purpose_id: str, where: str = "data.purpose") -> Any:
    purpose = policy.purpose(purpose_id)
    if purpose is None:
        raise _fail(where, f"is not a purpose of policy {policy.version}")
    return purpose


def _check_fields(values: dict[str, Any], allowed: tuple[str, ...], category: str) -> None:
    for name in values:
        if name not in allowed:
            raise _fail(f"data.values.{name}", f"is not a field of category {category} "
                                               f"({', '.join(allowed)})")


# -- the handlers, one per event type ----------------------------------------------------
def _policy_published(c: Check) -> None:
    return  # checked by the append (version and digest against the policies published)


def _notice_published(c: Check) -> None:
    known = c.notices.get(c.payload["notice_id"])
    if known is not None:
        raise _fail("data.notice_id", f"is already published (seq {known.seq}): give a new "
                                      "text a new id")
    c.payload["digest"] = hashlib.sha256(c.payload["text"].encode("utf-8")).hexdigest()


def _notice_cited(c: Check) -> None:
    """A cited notice must be published, by the time of the choice; the choice keeps its
    digest (``notice_digest``), so the choice's own hash commits to the text seen."""
    notice_id = c.payload.get("notice_id")
    if notice_id is None:
        return
    notice = c.notices.get(notice_id)
    if notice is None:
        raise _fail("data.notice_id", "is not a published notice: record NoticePublished "
                                      "first")
    if notice.occurred_at > c.d.occurred_at:
        raise _fail("data.notice_id", f"was published after occurred_at (seq {notice.seq}): "
                                      "the person cannot have seen it")
    c.payload["notice_digest"] = notice.payload["digest"]


def _consent_choice(c: Check) -> Policy:
    """ConsentGiven and ConsentRefused: a consent-based purpose of the policy in force."""
    _notice_cited(c)
    policy = _policy_for(c.d, c.book, c.payload)
    purpose = _purpose(policy, c.payload["purpose"])
    if not purpose.consent_required:
        raise _fail("data.purpose", f"has legal basis {purpose.legal_basis}: consent is "
                                    "not how it is processed")
    return policy


def _consent_given(c: Check) -> None:
    policy = _consent_choice(c)
    age = getattr(c.d.event, "age", None)
    guardian = getattr(c.d.event, "guardian", None)
    if age is not None and age < policy.minimum_age and guardian is None:
        raise _fail("data.guardian", f"is required: below {policy.minimum_age} a "
                                     "guardian must authorise (Art. 8(1))")
    joint_age = policy.joint_consent_age
    if (age is not None and joint_age is not None and age < joint_age
            and guardian is not None and not guardian.get("joint")):
        raise _fail("data.guardian.joint", f"must be true: below {joint_age} consent "
                                           "is given jointly (loi 78-17 art. 45)")


def _consent_refused(c: Check) -> None:
    _consent_choice(c)


def _consent_withdrawn(c: Check) -> None:
    _notice_cited(c)
    state, expired_at = consent_in_force(c.subject, c.book, c.payload["purpose"],
                                         c.d.occurred_at)
    if state != "granted":
        raise _fail("data.purpose", "has no consent in force at occurred_at to withdraw"
                    + _lapsed(expired_at)
                    + (": record the person's choice as ConsentRefused"
                       if expired_at is not None else ""))


def _data_collected(c: Check) -> None:
    policy = _policy_for(c.d, c.book, c.payload)
    category = policy.category(c.payload["category"])
    if category is None:
        raise _fail("data.category", f"is not a data category of policy {policy.version}")
    purpose = _purpose(policy, c.payload["purpose"])
    if category.id not in purpose.categories:
        raise _fail("data.category", f"is not collected for purpose {purpose.id} in "
                                     f"policy {policy.version}")
    _check_fields(c.payload["values"], category.fields, category.id)
    if purpose.consent_required:
        state, expired_at = consent_in_force(c.subject, c.book, purpose.id, c.d.occurred_at)
        if state != "granted":
            raise _fail("data.purpose", "is consent-based and the subject's consent was "
                        "not in force at occurred_at" + _lapsed(expired_at))
    for rid, purposes in c.subject.restrictions.items():
        if purposes is None or purpose.id in purposes:
            raise _fail("data.purpose", f"processing is restricted ({rid}): only "
                                        "storage is allowed (Art. 18)")


def _data_rectified(c: Check) -> None:
    category_id = c.subject.collection_category(c.payload["collection_id"])
    if category_id is None:
        raise _fail("data.collection_id", "is not a DataCollected of this subject")
    if category_id in c.subject.shredded:
        raise _fail("data.collection_id", f"its data was erased or anonymised at seq "
                                          f"{c.subject.shredded[category_id]}")
    current = c.book.in_force(c.d.occurred_at)
    category = current.category(category_id) if current else None
    if category is not None:
        _check_fields(c.payload["values"], category.fields, category.id)


def _request(c: Check) -> None:
    rid = c.payload["request_id"]
    request = c.subject.requests.get(rid)
    if c.d.type == "RightsRequestReceived":
        if request is not None:
            raise _fail("data.request_id", "is already a request of this subject")
        return
    if request is None:
        raise _fail("data.request_id", "is not a request received from this subject")
    if request["closed"] is not None:
        raise _fail("data.request_id", f"was already answered at seq {request['closed']}")
    if c.d.occurred_at < request["received_at"]:
        raise _fail("occurred_at", "is earlier than the request's receipt")
    if c.d.type == "RightsRequestExtended":
        if request["extended"]:
            raise _fail("data.request_id", "was already extended")
        policy = c.book.in_force(request["received_at"])
        months = policy.rights_response_months if policy else 1
        # counted on the local date in the policy's time zone (ledger.domain.periods)
        limit = add_period(request["received_at"], f"P{months}M",
                           policy.zone if policy else UTC)
        if c.d.occurred_at > limit:
            raise _fail("occurred_at", f"an extension must be decided within {months} "
                                       "month(s) of receipt (Art. 12(3))")


def _erasure(c: Check) -> None:
    """SubjectErased and DataAnonymised."""
    s = c.subject
    if s.holds:
        raise _fail("subject", f"a legal hold is active ({', '.join(sorted(s.holds))})"
                               ": erasure is blocked until it is released")
    if s.events == 0:
        raise _fail("subject", "has no recorded history in this ledger")
    if c.d.type == "SubjectErased" and s.erased_seq is not None \
            and not s.personal_since_erasure:
        raise _fail("subject", f"was already erased at seq {s.erased_seq} and "
                               "nothing personal was recorded since")
    if c.d.type == "DataAnonymised":
        current = c.book.in_force(c.d.occurred_at)
        for i, cat in enumerate(c.payload["categories"]):
            if current is not None and current.category(cat) is None:
                raise _fail(f"data.categories[{i}]", "is not a data category of the "
                                                     "policy in force")


def _hold_placed(c: Check) -> None:
    if c.payload["hold_id"] in c.subject.holds:
        raise _fail("data.hold_id", "is already an active hold of this subject")


def _hold_released(c: Check) -> None:
    if c.payload["hold_id"] not in c.subject.holds:
        raise _fail("data.hold_id", "is not an active hold of this subject")


def _restricted(c: Check) -> None:
    if c.payload["restriction_id"] in c.subject.restrictions:
        raise _fail("data.restriction_id", "is already an active restriction")
    current = c.book.in_force(c.d.occurred_at)
    for i, p in enumerate(c.payload.get("purposes") or []):
        if current is not None and current.purpose(p) is None:
            raise _fail(f"data.purposes[{i}]", "is not a purpose of the policy in force")


def _restriction_lifted(c: Check) -> None:
    if c.payload["restriction_id"] not in c.subject.restrictions:
        raise _fail("data.restriction_id", "is not an active restriction of this subject")


def _objection(c: Check) -> None:
    policy = _policy_for(c.d, c.book, {"policy_version": None})
    purpose = _purpose(policy, c.payload["purpose"])
    if purpose.legal_basis not in ("legitimate_interests", "public_task"):
        raise _fail("data.purpose", f"has legal basis {purpose.legal_basis}: Art. 21 "
                                    "objection applies to legitimate interests or public "
                                    "task (withdraw consent instead)")


def _disclosed(c: Check) -> None:
    policy = _policy_for(c.d, c.book, {"policy_version": None})
    _purpose(policy, c.payload["purpose"])
    for i, cat in enumerate(c.payload["categories"]):
        if policy.category(cat) is None:
            raise _fail(f"data.categories[{i}]", "is not a data category of the policy")
    c.payload["outside_eea"] = is_outside_eea(c.payload["country"])
    c.payload["recipient_in_policy"] = policy.recipient(c.payload["recipient"]) is not None


def _breach(c: Check) -> None:
    breach, payload, d = c.breach, c.payload, c.d
    if d.type == "BreachDetected":
        if breach.discovered_at is not None:
            raise _fail("data.breach_id", "is already a detected breach")
        if "discovered_at" not in payload:
            payload["discovered_at"] = format_time(d.occurred_at)
        return
    if breach.discovered_at is None:
        raise _fail("data.breach_id", "is not a detected breach (record BreachDetected "
                                      "first)")
    discovered = parse_time(breach.discovered_at)
    if d.occurred_at < discovered:
        raise _fail("occurred_at", "is earlier than the breach's discovery")
    if d.type == "BreachNotified":
        if breach.notified and not payload.get("supplementary"):
            raise _fail("data.supplementary", "must be true: the authority was already "
                                              "notified (Art. 33(4) phased information)")
        policy = c.book.in_force(discovered)
        hours = policy.breach_notification_hours if policy else 72
        late = (d.occurred_at - discovered).total_seconds() > hours * 3600
        if late and not breach.notified and not payload.get("reason_for_delay"):
            raise _fail("data.reason_for_delay", f"is required: notified more than {hours} "
                                                 "hours after discovery (Art. 33(1))")


def _accessed(c: Check) -> None:
    """A read that happened: allowed even after erasure."""
    in_force = c.book.in_force(c.d.occurred_at)
    if in_force is not None and in_force.access_reason_required \
            and "reason" not in c.payload:
        raise _fail("data.reason", f"is required: policy {in_force.version} asks "
                                   "every read of personal data to say why")


RULES: dict[str, Callable[[Check], None]] = {
    "PolicyPublished": _policy_published, "NoticePublished": _notice_published,
    "ConsentGiven": _consent_given, "ConsentRefused": _consent_refused,
    "ConsentWithdrawn": _consent_withdrawn, "DataCollected": _data_collected,
    "DataRectified": _data_rectified,
    "RightsRequestReceived": _request, "RightsRequestExtended": _request,
    "RightsRequestFulfilled": _request, "RightsRequestRefused": _request,
    "SubjectErased": _erasure, "DataAnonymised": _erasure,
    "LegalHoldPlaced": _hold_placed, "LegalHoldReleased": _hold_released,
    "ProcessingRestricted": _restricted, "RestrictionLifted": _restriction_lifted,
    "ObjectionRecorded": _objection, "DataDisclosed": _disclosed,
    "BreachDetected": _breach, "BreachNotified": _breach, "BreachCommunicated": _breach,
    "PersonalDataAccessed": _accessed,
}
