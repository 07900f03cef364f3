"""Every policy the ledger published, for "which policy was in force at T" (the projections'
calendar: deadlines, consent validity, the time zone people's times are read in)."""

from __future__ import annotations

import json
from typing import Any

from ledger.domain.periods import DEFAULT_TIME_ZONE
from ledger.domain.policy import Policy
from ledger.trust.canonical import format_time

__all__ = ["PolicyLog"]


class PolicyLog:
    """Every PolicyPublished of the ledger, for "which policy was in force at T"."""

    def __init__(self) -> None:
        self._items: list[tuple[str, int, Any]] = []  # (effective_at text, seq, Policy)
        self._seqs: set[int] = set()

    def add(self, seq: int, policy_json: dict[str, Any]) -> None:
        if seq in self._seqs:
            return
        policy = Policy.from_json(policy_json)
        self._seqs.add(seq)
        self._items.append((format_time(policy.effective_at), seq, policy))
        self._items.sort(key=lambda p: (p[0], p[1]))

    def load(self, store: Any, *, known_at: str | None = None) -> PolicyLog:
        for row in store.entries(types=["PolicyPublished"]):
            entry = json.loads(row.state)
            if known_at is None or entry["recorded_at"] <= known_at:
                self.add(row.seq, entry["payload"]["policy"])
        return self

    def in_force(self, at: str, before_seq: int | None = None) -> Any:
        """The policy in force at ``at`` among those published before ``before_seq``."""
        current = None
        for effective_at, seq, policy in self._items:
            if effective_at <= at and (before_seq is None or seq < before_seq):
                current = policy
        return current

    def version(self, version: str | None) -> Any:
        for _, _, policy in self._items:
            if policy.version == version:
                return policy
        return None

    def latest(self) -> Any:
        return self._items[-1][2] if self._items else None

    def time_zone(self, at: str) -> str:
        """The zone people's times and bare dates are read in: the policy in force at
        ``at``, else the latest published, else UTC."""
        policy = self.in_force(at) or self.latest()
        return str(policy.time_zone) if policy is not None else DEFAULT_TIME_ZONE

    def published(self) -> list[Any]:
        """Every policy, in order of coming into force."""
        return [policy for _, _, policy in self._items]
