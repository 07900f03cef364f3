"""Batches with more keys than ``FEW_KEYS`` decide as small ones, on both databases.

On PostgreSQL such a batch takes the other path of the storage layer
(``ledger.storage.many_params``): look-ups by key through ``unnest`` + ``LATERAL``,
multi-row INSERTs and the batch's latest-choice look-up through a raw cursor.  These
tests fail if that path loses or mixes up a row: a replay would not be recognised, a
data key would be created again (its primary key refuses it), a consent would not be
found, a value would not open.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ledger.app.application import Ledger
from ledger.errors import ConflictError, InputError
from ledger.storage.many_params import FEW_KEYS
from tests.helpers import collect, consent

N = FEW_KEYS * 3


def _ided(event: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), **event}


def test_a_big_batch_replays_reuses_keys_and_refuses_a_conflict(ledger: Ledger) -> None:
    people = [f"p{i}@x.fr" for i in range(N)]
    consents = [_ided(consent(p, evidence=f"form-{i}")) for i, p in enumerate(people)]
    first = ledger.append(consents)
    again = ledger.append(consents)
    assert [r.as_dict() for r in again] == [r.as_dict() for r in first]
    assert all(r.new for r in first) and not any(r.new for r in again)

    # Two collections of the same category: the second one must find the data keys
    # the first created (else it creates them again and the key table refuses it) and
    # each subject's consent (else the rule refuses the collection).
    for round_ in range(2):
        ledger.append([collect(p, values={"email": p, "last_name": f"D{round_}"})
                       for p in people])
    entries = [e for e in ledger.log(people[-1]) if e["type"] == "DataCollected"]
    assert [e["data"]["values"] for e in entries] == [
        {"email": people[-1], "last_name": "D0"}, {"email": people[-1], "last_name": "D1"}]

    altered = [dict(c) for c in consents]
    altered[N - 2] = {**altered[N - 2], "data": {**altered[N - 2]["data"], "method": "banner"}}
    with pytest.raises(ConflictError) as exc:
        ledger.append(altered)
    assert "data.method" in str(exc.value)
    assert f"line {N - 1}" in str(exc.value)


def test_a_big_batch_of_back_dated_collections_asks_for_the_older_choice(
        ledger: Ledger) -> None:
    """The latest stored choice of each subject is read for the whole batch; a collection
    dated before it must still see the choice in force at its own time."""
    people = [f"q{i}@x.fr" for i in range(N)]
    ledger.append([consent(p, at="2024-05-01T10:00:00+02:00") for p in people])
    ledger.append([{"type": "ConsentWithdrawn", "subject": p,
                    "occurred_at": "2024-05-20T10:00:00+02:00",
                    "data": {"purpose": "recruitment", "method": "form"}} for p in people])
    # before the withdrawal: in force
    ledger.append([collect(p, at="2024-05-15T10:00:00+02:00") for p in people])
    # after it: refused, naming the field
    with pytest.raises(InputError, match=r"line 1: data\.purpose: is consent-based"):
        ledger.append([collect(p, at="2024-05-25T10:00:00+02:00") for p in people])
