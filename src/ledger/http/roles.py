"""Who may do what: one table from permission to roles.

Every route names one permission (``ctx.require("proofs:read")``); the table
below says which roles hold it.  The issue's rules: ``service`` may append
and read consent; ``auditor`` may read verification, checkpoints and proofs,
never decrypted personal data; ``dpo`` may do everything.  The server's metrics
(``metrics:read``) go to the auditor and the DPO: monitoring is oversight.  A route whose
permission is not in the table cannot be registered (a typo must not open or
close a route silently); a plugin with a new kind of route adds its row with
:meth:`Permissions.define` — the DPO always holds every permission.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ledger.app.tokens import ROLES

__all__ = ["PERMISSIONS", "Permissions"]

PERMISSIONS: Mapping[str, frozenset[str]] = {
    # the write side
    "events:append": frozenset({"service", "dpo"}),
    "subjects:erase": frozenset({"dpo"}),
    # evidence for auditors: no personal data in clear
    "verify:read": frozenset({"auditor", "dpo"}),
    "checkpoints:read": frozenset({"auditor", "dpo"}),
    "proofs:read": frozenset({"auditor", "dpo"}),
    # read models (projections)
    "consent:read": frozenset({"service", "dpo"}),
    "subjects:export": frozenset({"dpo"}),      # decrypted personal data
    "registers:read": frozenset({"dpo"}),       # retention, requests, breaches
    # operations: GET /metrics (counts, route templates, rules; no personal data)
    "metrics:read": frozenset({"auditor", "dpo"}),
}


class Permissions:
    """The table of one app (a copy: plugins' additions stay in their app)."""

    def __init__(self, table: Mapping[str, Iterable[str]] = PERMISSIONS) -> None:
        self._table: dict[str, frozenset[str]] = {}
        for permission, roles in table.items():
            self.define(permission, roles)

    def define(self, permission: str, roles: Iterable[str]) -> None:
        """Add a permission held by ``roles`` (and the DPO); redefining one is refused."""
        granted = frozenset(roles) | {"dpo"}
        unknown = granted - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)} for {permission!r}")
        if permission in self._table and self._table[permission] != granted:
            raise ValueError(f"permission {permission!r} is already defined")
        self._table[permission] = granted

    def roles(self, permission: str) -> frozenset[str]:
        try:
            return self._table[permission]
        except KeyError:
            raise ValueError(f"unknown permission {permission!r}: define it first") from None

    def allows(self, role: str, permission: str) -> bool:
        return role in self.roles(permission)

    def table(self) -> dict[str, list[str]]:
        return {p: sorted(r) for p, r in sorted(self._table.items())}
