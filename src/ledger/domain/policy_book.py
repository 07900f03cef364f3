"""Every published policy, and which one was in force at a given time."""

from __future__ import annotations

from datetime import datetime

from ledger.domain.policy import Policy

__all__ = ["PolicyBook"]


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
