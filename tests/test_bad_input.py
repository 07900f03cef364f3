"""Hypothesis: bad events are all refused with InputError, and change nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.app.application import Ledger
from ledger.errors import InputError
from tests.helpers import collect, consent

VALID: list[dict[str, Any]] = [
    consent("a@x.fr", evidence="form-1"),
    collect("a@x.fr"),
    {"type": "RightsRequestReceived", "subject": "a@x.fr", "occurred_at": "2024-05-02T10:00:00Z",
     "data": {"request_id": "R-1", "right": "access", "channel": "email"}},
    {"type": "BreachDetected", "occurred_at": "2024-05-02T10:00:00Z",
     "data": {"breach_id": "B-1", "nature": ["integrity"], "risk": "risk",
              "description": "Lost laptop"}},
    {"type": "DataDisclosed", "occurred_at": "2024-05-02T10:00:00Z",
     "data": {"recipient": "hosting", "recipient_kind": "processor", "country": "FR",
              "categories": ["identification_contact"], "purpose": "recruitment"}},
]

WRONG_VALUES = st.one_of(
    st.none(), st.integers(min_value=-5, max_value=5), st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(),
                                                         max_size=2),
    st.text(alphabet="\x00\x01\x1f", min_size=1, max_size=3),
    st.just("x" * 20_000), st.just("\ud800"), st.just(""), st.just("   "),
)


def mutate_required(ev: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    ev = copy.deepcopy(ev)
    required = [k for k in ev["data"] if k not in ("evidence",)]
    del ev["data"][data.draw(st.sampled_from(required))]
    return ev


def mutate_wrong_value(ev: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    ev = copy.deepcopy(ev)
    key = data.draw(st.sampled_from([k for k in ev["data"] if k != "evidence"]))
    value = data.draw(WRONG_VALUES)
    if key == "values":
        ev["data"]["values"] = {"email": value} if value is not None else "x"
        if isinstance(value, str) and value and value.strip() and len(value) < 10_000 \
                and "\ud800" not in value and not any(ord(c) < 32 for c in value):
            ev["data"]["values"] = {"EMAIL": value}
    else:
        ev["data"][key] = value
    return ev


def mutate_envelope(ev: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    ev = copy.deepcopy(ev)
    choice = data.draw(st.sampled_from([
        "type", "occurred_at", "future", "event_id", "extra", "subject", "actor", "data",
        "unknown_field"]))
    if choice == "type":
        ev["type"] = data.draw(st.one_of(st.text(max_size=20), st.none(), st.integers()))
    elif choice == "occurred_at":
        ev["occurred_at"] = data.draw(st.sampled_from([
            "2024-05-01T10:00:00", "2024-05-01", "yesterday", "2024-13-01T10:00:00Z",
            "2024-02-30T10:00:00Z", 1714550400, None, "2024-05-01T25:00:00+02:00"]))
    elif choice == "future":
        ev["occurred_at"] = "2099-01-01T00:00:00Z"
    elif choice == "event_id":
        ev["event_id"] = data.draw(st.sampled_from(["not-a-uuid", "", 42, "1234"]))
    elif choice == "extra":
        ev[data.draw(st.sampled_from(["seq", "hash", "prev_hash", "recorded_at", "x"]))] = 1
    elif choice == "subject":
        if "subject" in ev:
            ev["subject"] = data.draw(st.sampled_from([None, "", 12, "x" * 300, "a\x00b"]))
        elif ev["type"] == "DataDisclosed":  # subject optional: only a bad one is bad
            ev["subject"] = data.draw(st.sampled_from(["", 12, "x" * 300, "a\x00b"]))
        else:  # organisation events take no subject
            ev["subject"] = "someone@x.fr"
    elif choice == "actor":
        ev["actor"] = data.draw(st.sampled_from(["", "has space", 7, "é" * 3]))
    elif choice == "data":
        ev["data"] = data.draw(st.sampled_from([[], "x", 1]))
    else:
        ev["data"]["surprise"] = 1
    return ev


MUTATIONS = [mutate_required, mutate_wrong_value, mutate_envelope]

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3) |
                    st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=10)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_events_are_refused_and_change_nothing(ledger: Ledger,
                                                       data: st.DataObject) -> None:
    head = ledger.head()
    base = data.draw(st.sampled_from(VALID))
    bad = data.draw(st.sampled_from(MUTATIONS))(base, data)
    good_before = data.draw(st.booleans())
    batch = [consent("ok@x.fr"), bad] if good_before else [bad]
    with pytest.raises(InputError) as err:
        ledger.append(batch)
    assert err.value.line == len(batch)
    assert err.value.field and err.value.rule
    assert ledger.head() == head


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=JSON)
def test_random_json_is_refused(ledger: Ledger, junk: object) -> None:
    head = ledger.head()
    with pytest.raises(InputError):
        ledger.append([junk])
    assert ledger.head() == head


def test_errors_never_echo_personal_values(ledger: Ledger) -> None:
    secret = "camille.durand@example.fr"
    bad = collect(secret, values={"email": secret, "shoe": secret})
    with pytest.raises(InputError) as err:
        ledger.append([consent(secret), bad])
    assert secret not in str(err.value)
    with pytest.raises(InputError) as err:
        ledger.append([{"type": "ConsentGiven", "subject": secret, "occurred_at": secret,
                        "data": {}}])
    assert secret not in str(err.value)


def test_valid_examples_are_valid(ledger: Ledger) -> None:
    """The base events the mutations start from are accepted (so mutations matter)."""
    ledger.append(VALID)
    assert ledger.head()[0] == 1 + len(VALID)
    assert ledger.verify().ok


def test_an_unknown_key_that_could_be_personal_is_not_repeated(ledger: Ledger) -> None:
    """A key the caller sent is named in the error only if it looks like a field name."""
    for where in ("envelope", "data"):
        ev = consent("someone@example.org")
        target = ev if where == "envelope" else ev["data"]
        target["camille.durand@example.fr"] = 1
        with pytest.raises(InputError) as caught:
            ledger.append([ev])
        assert "camille" not in str(caught.value)
        assert "(unknown key)" in caught.value.field
        target.pop("camille.durand@example.fr")
        target["colour"] = 1  # a name-like key is still named, to help the caller
        with pytest.raises(InputError) as caught:
            ledger.append([ev])
        assert caught.value.field.endswith("colour")
    assert ledger.head()[0] == 1  # nothing stored: only the policy
