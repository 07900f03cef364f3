"""Group commit: concurrent requests share a transaction, each keeps its own outcome."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import pytest

from ledger.app.application import Ledger
from ledger.errors import InputError, RuleViolation
from ledger.http.commit import GroupCommitter
from tests.helpers import collect, consent


def ided(event: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), **event}


def run_together(committer: GroupCommitter, batches: list[list[Any]]) -> list[Any]:
    """Queue every batch while the committer is busy, then let them all go at once."""
    outcomes: list[Any] = [None] * len(batches)

    async def one(i: int, drafts: list[Any]) -> None:
        try:
            outcomes[i] = await committer.append(drafts)
        except InputError as exc:
            outcomes[i] = exc

    async def main() -> None:
        committer.started()
        assert committer._lock is not None
        # while a transaction "is running" (the lock held), every request queues behind it
        async with anyio.create_task_group() as tg, committer._lock:
            for i, drafts in enumerate(batches):
                tg.start_soon(one, i, drafts)
            for _ in range(50):
                await anyio.sleep(0)
            assert len(committer._pending) == len(batches)

    anyio.run(main)
    return outcomes


def test_one_transaction_for_many_requests_and_a_refused_one_alone(ledger: Ledger) -> None:
    committer = GroupCommitter(ledger)
    good = [[ided(consent(f"s{i}@example.fr")), ided(collect(f"s{i}@example.fr"))]
            for i in range(4)]
    bad = [ided(consent("t@example.fr")), ided(collect("nobody@example.fr"))]  # no consent
    batches = [ledger.parse(b) for b in (good[0], good[1], bad, good[2], good[3])]
    outcomes = run_together(committer, batches)
    assert committer.groups == 2           # the shared attempt, then again without `bad`
    refused = outcomes[2]
    assert isinstance(refused, RuleViolation)
    assert refused.line == 2 and refused.field == "data.purpose"
    stored = [o for i, o in enumerate(outcomes) if i != 2]
    assert [[r.seq for r in receipts] for receipts in stored] == [[2, 3], [4, 5], [6, 7],
                                                                  [8, 9]]
    assert all(r.new for receipts in stored for r in receipts)
    assert ledger.head()[0] == 9
    assert not list(ledger.log("t@example.fr"))  # nothing of the refused request
    assert ledger.verify().ok


def test_overlapping_requests_are_not_merged(ledger: Ledger) -> None:
    committer = GroupCommitter(ledger)
    batch = [ided(consent("a@example.fr")), ided(consent("b@example.fr"))]
    other = [ided(consent("c@example.fr"))]
    outcomes = run_together(committer, [ledger.parse(batch), ledger.parse(batch),
                                        ledger.parse(other)])
    first, retry, third = outcomes
    assert [r.new for r in first] == [True, True]
    assert [(r.seq, r.hash, r.new) for r in retry] == [(r.seq, r.hash, False) for r in first]
    assert [r.seq for r in third] == [4]
    assert committer.groups == 2   # {batch, other}, then the retry alone
    assert ledger.head()[0] == 4


def test_a_database_error_fails_the_whole_group(ledger: Ledger,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.errors import StorageError

    def broken(drafts: Any) -> Any:
        raise StorageError("database error: connection lost")

    committer = GroupCommitter(ledger)
    monkeypatch.setattr(ledger, "append_drafts", broken)
    batches = [ledger.parse([ided(consent(f"s{i}@example.fr"))]) for i in range(3)]
    errors: list[BaseException] = []

    async def main() -> None:
        committer.started()
        for drafts in batches:
            try:
                await committer.append(drafts)
            except StorageError as exc:
                errors.append(exc)

    anyio.run(main)
    assert len(errors) == 3 and not committer._pending
