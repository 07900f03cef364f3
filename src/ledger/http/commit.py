"""Group commit: concurrent append requests share one ledger transaction.

Appends serialise on the ledger's lock, and each transaction pays a fixed
price (taking the lock, reading the head and the policy, the commit's flush).
So while one transaction runs, the requests that arrive queue up here, and
the next transaction takes them all together — in arrival order, up to
:attr:`max_events` events — instead of one by one.

Each request keeps its own all-or-nothing answer:

* jobs whose ``event_id``\\ s overlap are never in the same group (a retry
  racing its original is answered from the stored entry, as when alone);
* if an event is refused, the job it belongs to fails with that error (its
  index counted within the job) and the group is retried without it — the
  others are then checked exactly as if that request had never come, which is
  what running them one after the other would have given;
* a database error fails every job of the group (nothing was stored).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from ledger.errors import InputError

if TYPE_CHECKING:
    from ledger.app.application import Ledger, Receipt
    from ledger.domain.events import Draft

__all__ = ["GroupCommitter"]


@dataclass
class _Job:
    drafts: Sequence[Draft]
    receipts: list[Receipt] | None = None
    error: BaseException | None = None
    ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def done(self) -> bool:
        return self.receipts is not None or self.error is not None


class GroupCommitter:
    def __init__(self, ledger: Ledger, *, max_events: int = 1000) -> None:
        self.ledger = ledger
        self.max_events = max_events
        self._pending: list[_Job] = []
        self._lock: anyio.Lock | None = None
        self.groups = 0   # transactions attempted, for tests and curiosity

    def started(self) -> None:
        """In the server's event loop (the lock belongs to it)."""
        self._lock = anyio.Lock()

    async def append(self, drafts: Sequence[Draft]) -> list[Receipt]:
        job = _Job(drafts, ids=frozenset(d.event_id for d in drafts))
        self._pending.append(job)
        if self._lock is None:
            self._lock = anyio.Lock()
        try:
            while not job.done:
                async with self._lock:
                    # an earlier holder may have taken this job into its group meanwhile
                    if job in self._pending:
                        await anyio.to_thread.run_sync(self._commit, self._take())
        finally:  # a request cancelled (client gone) before its turn is not appended
            if job in self._pending:
                self._pending.remove(job)
        if job.error is not None:
            raise job.error
        assert job.receipts is not None  # noqa: S101 - done means one of the two
        return job.receipts

    def _take(self) -> list[_Job]:
        """The oldest pending jobs that fit together (disjoint ids, size)."""
        group: list[_Job] = []
        ids: set[str] = set()
        size = 0
        for job in list(self._pending):
            if group and (size + len(job.drafts) > self.max_events or not ids.isdisjoint(job.ids)):
                continue
            group.append(job)
            ids |= job.ids
            size += len(job.drafts)
            self._pending.remove(job)
        return group

    def _commit(self, group: list[_Job]) -> None:
        """In a worker thread: one transaction for the group, retried without refused jobs."""
        remaining = list(group)
        while remaining:
            drafts = [d for job in remaining for d in job.drafts]
            self.groups += 1
            try:
                receipts = self.ledger.append_drafts(drafts)
            except InputError as exc:
                culprit, line = _locate(remaining, exc.line)
                if culprit is None:
                    for job in remaining:
                        job.error = exc
                    return
                culprit.error = exc.at_line(line)
                remaining.remove(culprit)
                continue
            except Exception as exc:  # noqa: BLE001 - handed to each waiting request
                for job in remaining:
                    job.error = exc
                return
            at = 0
            for job in remaining:
                job.receipts = receipts[at:at + len(job.drafts)]
                at += len(job.drafts)
            return


def _locate(jobs: list[_Job], line: int | None) -> tuple[_Job | None, int]:
    """The job holding 1-based ``line`` of the concatenated batch, and the line in it."""
    if line is None:
        return None, 0
    for job in jobs:
        if line <= len(job.drafts):
            return job, line
        line -= len(job.drafts)
    return None, 0
