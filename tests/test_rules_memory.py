"""The rules are one handler per event type and run on in-memory state (issue 15): no
database, no keys — a state folded from Recorded events, a policy book, a draft."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.domain.events import CATALOGUE, Draft, parse_unverified_event, payload_of
from ledger.domain.policy import bundled_policy
from ledger.domain.rules import RULES, PolicyBook, check_draft
from ledger.domain.state import Recorded, SubjectState
from ledger.errors import RuleViolation

NOW = datetime(2024, 6, 1, tzinfo=UTC)


def _book() -> PolicyBook:
    book = PolicyBook()
    book.add(1, bundled_policy())
    return book


def _draft(type_: str, data: dict[str, object], at: str = "2024-05-02T10:00:00Z") -> Draft:
    return parse_unverified_event({"type": type_, "subject": "a@x.fr", "occurred_at": at,
                                   "data": data}, now=NOW, default_actor="test")


def test_every_event_type_has_exactly_one_handler() -> None:
    assert set(RULES) == set(CATALOGUE)


def test_a_handler_runs_on_a_state_folded_in_memory() -> None:
    state = SubjectState()
    at = datetime(2024, 5, 1, 10, tzinfo=UTC)
    state.apply(Recorded(2, "e2", "ConsentGiven", at,
                         {"purpose": "recruitment", "method": "form"}))
    state.apply(Recorded(3, "e3", "LegalHoldPlaced", at, {"hold_id": "h1",
                                                          "basis": "litigation"}))
    collect = _draft("DataCollected", {"category": "identification_contact",
                                       "purpose": "recruitment", "source": "subject",
                                       "values": {"email": "a@x.fr"}})
    check_draft(collect, payload_of(collect.event), book=_book(),
                subject=state, breach=None)
    erase = _draft("SubjectErased", {"ground": "no_longer_necessary"})
    with pytest.raises(RuleViolation, match=r"legal hold is active \(h1\)"):
        check_draft(erase, payload_of(erase.event), book=_book(),
                    subject=state, breach=None)
    withdraw = _draft("ConsentWithdrawn", {"purpose": "recruitment", "method": "form"},
                      at="2024-04-30T10:00:00Z")  # before the consent: nothing to withdraw
    with pytest.raises(RuleViolation, match="no consent in force"):
        check_draft(withdraw, payload_of(withdraw.event), book=_book(),
                    subject=state, breach=None)


def test_the_stored_form_round_trips_and_holds_no_value() -> None:
    state = SubjectState()
    at = datetime(2024, 5, 1, 10, tzinfo=UTC)
    state.apply(Recorded(2, "e2", "DataCollected", at, {"category": "application",
                                                        "values": {"cv": "v1:sealed"}}))
    state.apply(Recorded(3, "e3", "RightsRequestReceived", at, {"request_id": "q"}))
    text = state.to_json()
    assert "sealed" not in text and "cv" not in text
    again = SubjectState.from_json(text, state.seq, state.history)
    assert again == state and again.to_json() == text
