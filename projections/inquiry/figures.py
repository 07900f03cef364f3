"""The report's figures, each defined as a count over the evidence's entries.

A figure is ``{"id", "section", "label", "value", "count": rule}``; the rule is a filter
on what every entry holds in clear (docs/FORMAT.md §17, ledger.trust.inquiry_check.matches):
``types``, ``from``/``to`` on ``occurred_at``, ``known_at`` on ``recorded_at``, equal
``payload`` members, and ``subjects`` (pseudonyms).  The value comes from the registers
(projections); ``ledger verify --inquiry`` recounts it from the bundle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .scope import Scope

__all__ = ["Figures"]


class Figures:
    """The figures of one report, in order."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.items: list[dict[str, Any]] = []

    def add(self, fig_id: str, section: int, label: str, value: int, types: Sequence[str],
            *, payload: dict[str, Any] | None = None,
            subjects: Sequence[str] | None = None) -> int:
        rule: dict[str, Any] = {"types": list(types), "from": self.scope.start,
                                "to": self.scope.end, "known_at": self.scope.known_at,
                                "payload": payload or {}}
        if subjects is not None:
            rule["subjects"] = sorted(subjects)
        self.items.append({"id": fig_id, "section": section, "label": label, "value": value,
                           "count": rule})
        return value

    def as_json(self, cited: dict[int, str]) -> dict[str, Any]:
        return {"format": "ledger-inquiry-figures/1", "scope": {
            "from": self.scope.start, "to": self.scope.end, "as_of": self.scope.at,
            "known_at": self.scope.known_at, "purposes": list(self.scope.purposes),
            "reference": self.scope.reference},
            "figures": self.items,
            "cited": [{"seq": s, "hash": h} for s, h in sorted(cited.items())]}
