"""Builders of realistic events for tests (XP² cloud vocabulary)."""

from __future__ import annotations

from typing import Any


def consent(subject: str, purpose: str = "recruitment", at: str = "2024-05-01T10:00:00+02:00",
            **data: Any) -> dict[str, Any]:
    return {"type": "ConsentGiven", "subject": subject, "occurred_at": at,
            "data": {"purpose": purpose, "method": "form", **data}}


def collect(subject: str, values: dict[str, Any] | None = None,
            at: str = "2024-05-01T10:05:00+02:00", category: str = "identification_contact",
            purpose: str = "recruitment", **extra: Any) -> dict[str, Any]:
    return {"type": "DataCollected", "subject": subject, "occurred_at": at,
            "data": {"category": category, "purpose": purpose, "source": "subject",
                     "values": values or {"email": subject, "last_name": "Durand"}},
            **extra}
