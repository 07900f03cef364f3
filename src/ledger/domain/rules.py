# Over 400 lines (see wc -l): issue 15 splits it by layer (domain/, keys/, app/, cli/); it is kept
# whole this session so that issue 10 lands without moving files (docs/DECISIONS.md 44-45).
"""Rules that need the policy in force or a stream's own history.

A *stream* is the history a rule may look at: a subject's events (keyed by
pseudonym), one breach's events (``breach/<id>``) or the policies
(``policy``).  The append transaction loads each stream a batch touches,
under the append lock, folds it into a state object, checks each draft in
batch order and folds the accepted draft in before the next one, so a batch
may give consent and collect under it.

Time rules are bitemporal: "consent in force" means in force at the draft's
``occurred_at``, from the events that occurred at or before it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ledger.domain.events import Draft
from ledger.domain.policy import Policy, add_period, is_outside_eea
from ledger.errors import RuleViolation
from ledger.keys.sealing import is_sealed
from ledger.trust.canonical import format_time, parse_time

__all__ = ["BreachState", "PolicyBook", "Recorded", "SubjectState", "check_draft",
           "consent_expiry", "consent_in_force", "notice_streams", "stream_of"]


@dataclass(frozen=True, slots=True)
class Recorded:
    """The part of a stored (or accepted) event the rules read."""

    seq: int
    event_id: str
    type: str
    occurred_at: datetime
    payload: dict[str, Any]


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


class PolicyBook:
    """Every published policy; answers "which one was in force at T"."""

    def __init__(self) -> None:
        self.published: list[tuple[datetime, int, Policy]] = []

    def add(self, seq: int, policy: Policy) -> None:
        self.published.append((policy.effective_at, seq, policy))
        self.published.sort(key=lambda p: (p[0], p[1]))

    def in_force(self, at: datetime) -> Policy | None:
        current = None
        for effective_at, _, policy in self.published:
            if effective_at <= at:
                current = policy
        return current

    def version(self, version: str) -> Policy | None:
        for _, _, policy in self.published:
            if policy.version == version:
                return policy
        return None


@dataclass
class SubjectState:
    """A subject's history, folded."""

    # purpose -> [(occurred_at, seq, state, policy_version cited or None)]
    consents: dict[str, list[tuple[datetime, int, str, str | None]]] = field(
        default_factory=dict)
    collections: dict[str, str] = field(default_factory=dict)  # event_id -> category
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    holds: set[str] = field(default_factory=set)
    restrictions: dict[str, list[str] | None] = field(default_factory=dict)
    shredded: dict[str, int] = field(default_factory=dict)  # category -> seq
    erased_seq: int | None = None
    events: int = 0
    personal_since_erasure: bool = False

    def apply(self, r: Recorded) -> None:
        p = r.payload
        self.events += 1
        if _has_sealed(p):
            self.personal_since_erasure = True
        if r.type in ("ConsentGiven", "ConsentWithdrawn", "ConsentRefused"):
            state = {"ConsentGiven": "granted", "ConsentWithdrawn": "withdrawn",
                     "ConsentRefused": "refused"}[r.type]
            self.consents.setdefault(p["purpose"], []).append(
                (r.occurred_at, r.seq, state, p.get("policy_version")))
        elif r.type == "DataCollected":
            self.collections[r.event_id] = p["category"]
            self.shredded.pop(p["category"], None)
        elif r.type == "RightsRequestReceived":
            self.requests[p["request_id"]] = {"received_at": r.occurred_at,
                                              "extended": False, "closed": None}
        elif r.type == "RightsRequestExtended":
            self.requests[p["request_id"]]["extended"] = True
        elif r.type in ("RightsRequestFulfilled", "RightsRequestRefused"):
            self.requests[p["request_id"]]["closed"] = r.seq
        elif r.type == "LegalHoldPlaced":
            self.holds.add(p["hold_id"])
        elif r.type == "LegalHoldReleased":
            self.holds.discard(p["hold_id"])
        elif r.type == "ProcessingRestricted":
            self.restrictions[p["restriction_id"]] = p.get("purposes")
        elif r.type == "RestrictionLifted":
            self.restrictions.pop(p["restriction_id"], None)
        elif r.type == "DataAnonymised":
            for category in p["categories"]:
                self.shredded[category] = r.seq
        elif r.type == "SubjectErased":
            self.erased_seq = r.seq
            self.personal_since_erasure = False
            for category in set(self.collections.values()):
                self.shredded[category] = r.seq

    def consent_at(self, purpose: str, at: datetime) -> str:
        """granted, withdrawn, refused or none: the latest choice that occurred by ``at``
        (whether a grant has expired is :func:`consent_in_force`'s question)."""
        choice = self.latest_choice(purpose, at)
        return "none" if choice is None else choice[2]

    def latest_choice(self, purpose: str,
                      at: datetime) -> tuple[datetime, int, str, str | None] | None:
        """The choice with the latest ``(occurred_at, seq)`` that occurred by ``at``."""
        best = None
        for choice in self.consents.get(purpose, []):
            if choice[0] <= at and (best is None or choice[:2] > best[:2]):
                best = choice
        return best


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


def _lapsed(expired_at: datetime | None) -> str:
    return f"; it expired at {format_time(expired_at)} (the purpose's consent_validity)" \
        if expired_at is not None else ""


@dataclass
class BreachState:
    detected: dict[str, Any] | None = None
    notified: bool = False

    def apply(self, r: Recorded) -> None:
        if r.type == "BreachDetected":
            self.detected = r.payload
        elif r.type == "BreachNotified":
            self.notified = True


def _has_sealed(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_sealed(v) for v in value.values())
    return is_sealed(value)


def _fail(field_: str, rule: str) -> RuleViolation:
    return RuleViolation(field_, rule)


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


def check_draft(d: Draft, payload: dict[str, Any], *, book: PolicyBook,
                subject: SubjectState, breach: BreachState | None,
                notices: Mapping[str, Recorded] | None = None) -> None:
    """Check ``d`` against the policy and its stream; complete ``payload`` in place.

    ``payload`` is the draft's stored data before sealing; the rules may add
    derived members (the policy version in force, transfer flags, the breach
    discovery time).
    """
    t = d.type
    ev = d.event
    if t == "PolicyPublished":
        return
    if t == "NoticePublished":
        _check_notice_published(payload, notices or {})
        return
    if t.startswith("Consent"):
        _check_notice_cited(d, payload, notices or {})
    if t in ("ConsentGiven", "ConsentRefused"):
        policy = _policy_for(d, book, payload)
        purpose = _purpose(policy, payload["purpose"])
        if not purpose.consent_required:
            raise _fail("data.purpose", f"has legal basis {purpose.legal_basis}: consent is "
                                        "not how it is processed")
        if t == "ConsentGiven":
            age = getattr(ev, "age", None)
            guardian = getattr(ev, "guardian", None)
            if age is not None and age < policy.minimum_age and guardian is None:
                raise _fail("data.guardian", f"is required: below {policy.minimum_age} a "
                                             "guardian must authorise (Art. 8(1))")
            joint_age = policy.joint_consent_age
            if (age is not None and joint_age is not None and age < joint_age
                    and guardian is not None and not guardian.get("joint")):
                raise _fail("data.guardian.joint", f"must be true: below {joint_age} consent "
                                                   "is given jointly (loi 78-17 art. 45)")
        return
    if t == "ConsentWithdrawn":
        state, expired_at = consent_in_force(subject, book, payload["purpose"], d.occurred_at)
        if state != "granted":
            raise _fail("data.purpose", "has no consent in force at occurred_at to withdraw"
                        + _lapsed(expired_at)
                        + (": record the person's choice as ConsentRefused"
                           if expired_at is not None else ""))
        return
    if t == "DataCollected":
        policy = _policy_for(d, book, payload)
        category = policy.category(payload["category"])
        if category is None:
            raise _fail("data.category", f"is not a data category of policy {policy.version}")
        purpose = _purpose(policy, payload["purpose"])
        if category.id not in purpose.categories:
            raise _fail("data.category", f"is not collected for purpose {purpose.id} in "
                                         f"policy {policy.version}")
        _check_fields(payload["values"], category.fields, category.id)
        if purpose.consent_required:
            state, expired_at = consent_in_force(subject, book, purpose.id, d.occurred_at)
            if state != "granted":
                raise _fail("data.purpose", "is consent-based and the subject's consent was "
                            "not in force at occurred_at" + _lapsed(expired_at))
        for rid, purposes in subject.restrictions.items():
            if purposes is None or purpose.id in purposes:
                raise _fail("data.purpose", f"processing is restricted ({rid}): only "
                                            "storage is allowed (Art. 18)")
        return
    if t == "DataRectified":
        cid = payload["collection_id"]
        if cid not in subject.collections:
            raise _fail("data.collection_id", "is not a DataCollected of this subject")
        category_id = subject.collections[cid]
        if category_id in subject.shredded:
            raise _fail("data.collection_id", f"its data was erased or anonymised at seq "
                                              f"{subject.shredded[category_id]}")
        current = book.in_force(d.occurred_at)
        category = current.category(category_id) if current else None
        if category is not None:
            _check_fields(payload["values"], category.fields, category.id)
        return
    if t.startswith("RightsRequest"):
        _check_request(d, payload, subject, book)
        return
    if t in ("SubjectErased", "DataAnonymised"):
        if subject.holds:
            raise _fail("subject", f"a legal hold is active ({', '.join(sorted(subject.holds))})"
                                ": erasure is blocked until it is released")
        if subject.events == 0:
            raise _fail("subject", "has no recorded history in this ledger")
        if t == "SubjectErased" and subject.erased_seq is not None \
                and not subject.personal_since_erasure:
            raise _fail("subject", f"was already erased at seq {subject.erased_seq} and "
                                   "nothing personal was recorded since")
        if t == "DataAnonymised":
            current = book.in_force(d.occurred_at)
            for i, c in enumerate(payload["categories"]):
                if current is not None and current.category(c) is None:
                    raise _fail(f"data.categories[{i}]", "is not a data category of the "
                                                         "policy in force")
        return
    if t == "LegalHoldPlaced":
        if payload["hold_id"] in subject.holds:
            raise _fail("data.hold_id", "is already an active hold of this subject")
        return
    if t == "LegalHoldReleased":
        if payload["hold_id"] not in subject.holds:
            raise _fail("data.hold_id", "is not an active hold of this subject")
        return
    if t == "ProcessingRestricted":
        if payload["restriction_id"] in subject.restrictions:
            raise _fail("data.restriction_id", "is already an active restriction")
        current = book.in_force(d.occurred_at)
        for i, p in enumerate(payload.get("purposes") or []):
            if current is not None and current.purpose(p) is None:
                raise _fail(f"data.purposes[{i}]", "is not a purpose of the policy in force")
        return
    if t == "RestrictionLifted":
        if payload["restriction_id"] not in subject.restrictions:
            raise _fail("data.restriction_id", "is not an active restriction of this subject")
        return
    if t == "ObjectionRecorded":
        policy = _policy_for(d, book, {"policy_version": None})
        purpose = _purpose(policy, payload["purpose"])
        if purpose.legal_basis not in ("legitimate_interests", "public_task"):
            raise _fail("data.purpose", f"has legal basis {purpose.legal_basis}: Art. 21 "
                                        "objection applies to legitimate interests or public "
                                        "task (withdraw consent instead)")
        return
    if t == "DataDisclosed":
        policy = _policy_for(d, book, {"policy_version": None})
        _purpose(policy, payload["purpose"])
        for i, c in enumerate(payload["categories"]):
            if policy.category(c) is None:
                raise _fail(f"data.categories[{i}]", "is not a data category of the policy")
        payload["outside_eea"] = is_outside_eea(payload["country"])
        payload["recipient_in_policy"] = policy.recipient(payload["recipient"]) is not None
        return
    if t.startswith("Breach"):
        _check_breach(d, payload, breach, book)
        return
    if t == "PersonalDataAccessed":  # a read that happened: allowed even after erasure
        in_force = book.in_force(d.occurred_at)
        if in_force is not None and in_force.access_reason_required \
                and "reason" not in payload:
            raise _fail("data.reason", f"is required: policy {in_force.version} asks "
                                       "every read of personal data to say why")
        return
    raise AssertionError(t)  # pragma: no cover


def _check_notice_published(payload: dict[str, Any], notices: Mapping[str, Recorded]) -> None:
    known = notices.get(payload["notice_id"])
    if known is not None:
        raise _fail("data.notice_id", f"is already published (seq {known.seq}): give a new "
                                      "text a new id")
    payload["digest"] = hashlib.sha256(payload["text"].encode("utf-8")).hexdigest()


def _check_notice_cited(d: Draft, payload: dict[str, Any],
                        notices: Mapping[str, Recorded]) -> None:
    """A cited notice must be published, by the time of the choice; the choice keeps its
    digest (``notice_digest``), so the choice's own hash commits to the text seen."""
    notice_id = payload.get("notice_id")
    if notice_id is None:
        return
    notice = notices.get(notice_id)
    if notice is None:
        raise _fail("data.notice_id", "is not a published notice: record NoticePublished "
                                      "first")
    if notice.occurred_at > d.occurred_at:
        raise _fail("data.notice_id", f"was published after occurred_at (seq {notice.seq}): "
                                      "the person cannot have seen it")
    payload["notice_digest"] = notice.payload["digest"]


def _check_fields(values: dict[str, Any], allowed: tuple[str, ...], category: str) -> None:
    for name in values:
        if name not in allowed:
            raise _fail(f"data.values.{name}", f"is not a field of category {category} "
                                               f"({', '.join(allowed)})")


def _check_request(d: Draft, payload: dict[str, Any], subject: SubjectState,
                   book: PolicyBook) -> None:
    rid = payload["request_id"]
    request = subject.requests.get(rid)
    if d.type == "RightsRequestReceived":
        if request is not None:
            raise _fail("data.request_id", "is already a request of this subject")
        return
    if request is None:
        raise _fail("data.request_id", "is not a request received from this subject")
    if request["closed"] is not None:
        raise _fail("data.request_id", f"was already answered at seq {request['closed']}")
    if d.occurred_at < request["received_at"]:
        raise _fail("occurred_at", "is earlier than the request's receipt")
    if d.type == "RightsRequestExtended":
        if request["extended"]:
            raise _fail("data.request_id", "was already extended")
        policy = book.in_force(request["received_at"])
        months = policy.rights_response_months if policy else 1
        # counted on the local date in the policy's time zone (ledger.domain.periods)
        limit = add_period(request["received_at"], f"P{months}M",
                           policy.zone if policy else UTC)
        if d.occurred_at > limit:
            raise _fail("occurred_at", f"an extension must be decided within {months} "
                                       "month(s) of receipt (Art. 12(3))")


def _check_breach(d: Draft, payload: dict[str, Any], breach: BreachState | None,
                  book: PolicyBook) -> None:
    breach = breach or BreachState()
    if d.type == "BreachDetected":
        if breach.detected is not None:
            raise _fail("data.breach_id", "is already a detected breach")
        if "discovered_at" not in payload:
            payload["discovered_at"] = format_time(d.occurred_at)
        return
    if breach.detected is None:
        raise _fail("data.breach_id", "is not a detected breach (record BreachDetected "
                                      "first)")
    discovered = parse_time(breach.detected["discovered_at"])
    if d.occurred_at < discovered:
        raise _fail("occurred_at", "is earlier than the breach's discovery")
    if d.type == "BreachNotified":
        if breach.notified and not payload.get("supplementary"):
            raise _fail("data.supplementary", "must be true: the authority was already "
                                              "notified (Art. 33(4) phased information)")
        policy = book.in_force(discovered)
        hours = policy.breach_notification_hours if policy else 72
        late = (d.occurred_at - discovered).total_seconds() > hours * 3600
        if late and not breach.notified and not payload.get("reason_for_delay"):
            raise _fail("data.reason_for_delay", f"is required: notified more than {hours} "
                                                 "hours after discovery (Art. 33(1))")
