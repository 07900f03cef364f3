"""What the inquiry tests share: a ledger holding the demo's day, and a pack of it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.app.application import Ledger

ROOT = Path(__file__).resolve().parent.parent
LEDGER = str(Path(sys.executable).with_name("ledger"))
CANDIDATE = "camille.durand@example.fr"
MARKUP = '<script>alert("x")</script><img src="https://example.org/t.png"><b>gras</b>'


def day_events(folder: Path) -> list[dict[str, Any]]:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "demo_day.py"), str(folder)],
                   check=True, capture_output=True)
    text = (folder / "day.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def fill(ledger: Ledger, folder: Path, *, markup: bool = False) -> None:
    """The demo's day (3 March 2026), with a clock after it; with ``markup``, a notice
    and a breach whose texts hold HTML."""
    ledger.clock.now = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    events = day_events(folder)
    ledger.append(events, default_actor="test")
    if markup:
        ledger.append([
            {"type": "NoticePublished", "occurred_at": "2026-03-04T09:00:00+01:00",
             "data": {"notice_id": "banner/v9", "kind": "banner", "language": "fr",
                      "text": f"Nous utilisons des traceurs. {MARKUP}"}},
            {"type": "ConsentGiven", "subject": "visitor:markup",
             "occurred_at": "2026-03-04T09:01:00+01:00",
             "data": {"purpose": "cookies_audience", "method": "banner",
                      "notice_id": "banner/v9"}},
            {"type": "BreachDetected", "occurred_at": "2026-03-05T10:00:00+01:00",
             "data": {"breach_id": "BRK-MARKUP", "nature": ["availability"],
                      "risk": "unlikely", "description": f"Panne. {MARKUP}"}}],
            default_actor="test")


def run(env: dict[str, str], *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([LEDGER, *args], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == code, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done


def entries(pack: Path) -> list[dict[str, Any]]:
    """The evidence's entries, read by the test itself (hash, space, canonical JSON)."""
    with (pack / "evidence" / "entries.jsonl").open("rb") as f:
        return [json.loads(line[65:]) for line in f]
