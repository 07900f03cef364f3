"""Every published policy, and which one was in force at a given time.

The one definition of "the policy in force", shared by the rules of the write side and by
the projections (deadlines, consent validity, the time zone people's times are read in).
A time is a ``datetime`` or the chain's UTC text (``ledger.trust.canonical.format_time``:
fixed width, so text order is time order); ``before_seq`` limits the answer to the policies
published before an entry, as a projection replaying the chain saw them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.domain.periods import DEFAULT_TIME_ZONE
from ledger.domain.policy import Policy
from ledger.trust.canonical import format_time

__all__ = ["PolicyBook"]


class PolicyBook:
    """Every published policy; answers "which one was in force at T"."""

    def __init__(self) -> None:
        # (effective_at, seq, policy), in order of coming into force
        self.published: list[tuple[datetime, int, Policy]] = []
        self._texts: list[str] = []  # effective_at as the chain's text, same order
        self._seqs: set[int] = set()

    def add(self, seq: int, policy: Policy) -> None:
        """Add the policy published at ``seq`` (a second add of one seq is ignored)."""
        if seq in self._seqs:
            return
        self._seqs.add(seq)
        self.published.append((policy.effective_at, seq, policy))
        self.published.sort(key=lambda p: (p[0], p[1]))
        self._texts = [format_time(p[0]) for p in self.published]

    def add_json(self, seq: int, policy_json: dict[str, Any]) -> None:
        """Add a policy as a PolicyPublished entry stores it."""
        if seq not in self._seqs:
            self.add(seq, Policy.from_json(policy_json))

    def in_force(self, at: datetime | str, before_seq: int | None = None) -> Policy | None:
        """The policy in force at ``at`` (among those published before ``before_seq``)."""
        current = None
        if isinstance(at, str):
            for text, (_, seq, policy) in zip(self._texts, self.published, strict=True):
                if text <= at and (before_seq is None or seq < before_seq):
                    current = policy
            return current
        for effective_at, seq, policy in self.published:
            if effective_at <= at and (before_seq is None or seq < before_seq):
                current = policy
        return current

    def version(self, version: str | None) -> Policy | None:
        for _, _, policy in self.published:
            if policy.version == version:
                return policy
        return None

    def latest(self) -> Policy | None:
        """The policy that comes into force last."""
        return self.published[-1][2] if self.published else None

    def time_zone(self, at: datetime | str) -> str:
        """The zone people's times and bare dates are read in: the policy in force at
        ``at``, else the latest published, else UTC."""
        policy = self.in_force(at) or self.latest()
        return str(policy.time_zone) if policy is not None else DEFAULT_TIME_ZONE

    def in_order(self) -> list[Policy]:
        """Every policy, in order of coming into force."""
        return [policy for _, _, policy in self.published]
