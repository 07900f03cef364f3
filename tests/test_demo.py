"""The demo's day (scripts/demo_day.py) on both databases.

Every line of ``day.jsonl`` must be accepted and chain; every line of
``refused.jsonl`` must be refused on its own with an error naming the
expected field, leaving the head unchanged.  ``scripts/demo`` relies on both.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.app.application import ERASED, Ledger
from ledger.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "demo_day.py"
CANDIDATE = "camille.durand@example.fr"
# what each line of refused.jsonl must be refused for (also in demo_day.REFUSED)
EXPECTED_FIELDS = ["data.purpose", "data.reason_for_delay", "subject"]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    subprocess.run([sys.executable, str(SCRIPT), str(out)], check=True, capture_output=True)
    return out


@pytest.fixture
def day_ledger(ledger: Ledger) -> Ledger:
    """The fixture's ledger with a clock after the demo day (and its refused lines)."""
    ledger.clock.now = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    return ledger


def test_day_is_chronological_with_fixed_ids(demo_dir: Path) -> None:
    day = _lines(demo_dir / "day.jsonl")
    assert len(day) >= 30
    times = [datetime.fromisoformat(e["occurred_at"]) for e in day]
    assert times == sorted(times)
    assert all(e["occurred_at"].startswith("2026-03-03T") for e in day)
    assert all(e["occurred_at"].endswith("+01:00") for e in day)
    ids = [e["event_id"] for e in day + _lines(demo_dir / "refused.jsonl")]
    assert len(set(ids)) == len(ids)
    types = {e["type"] for e in day}
    assert {"ConsentGiven", "ConsentRefused", "ConsentWithdrawn", "DataCollected",
            "DataDisclosed", "RightsRequestReceived", "RightsRequestFulfilled",
            "SubjectErased", "LegalHoldPlaced", "BreachDetected", "BreachNotified",
            "BreachCommunicated"} <= types


def test_generator_is_deterministic(demo_dir: Path, tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], check=True,
                   capture_output=True)
    for name in ("day.jsonl", "refused.jsonl"):
        assert (tmp_path / name).read_bytes() == (demo_dir / name).read_bytes()


def test_day_is_accepted_and_verifies(day_ledger: Ledger, demo_dir: Path) -> None:
    day = _lines(demo_dir / "day.jsonl")
    start, _ = day_ledger.head()
    receipts = day_ledger.append(day, default_actor="test")
    assert len(receipts) == len(day)
    assert all(r.new for r in receipts)
    assert [r.seq for r in receipts] == list(range(start + 1, start + len(day) + 1))
    result = day_ledger.verify()
    assert result
    assert result.entries == start + len(day)

    # appending the day again records nothing new (fixed event_ids)
    again = day_ledger.append(day, default_actor="test")
    assert [(r.seq, r.hash) for r in again] == [(r.seq, r.hash) for r in receipts]
    assert not any(r.new for r in again)
    assert day_ledger.head() == (receipts[-1].seq, receipts[-1].hash)

    # the candidate is erased by the day's SubjectErased: her values are gone
    entries = list(day_ledger.log(CANDIDATE, types=["DataCollected"]))
    assert len(entries) == 2
    for e in entries:
        assert set(e["data"]["values"].values()) == {ERASED}


def test_candidate_readable_before_erasure(day_ledger: Ledger, demo_dir: Path) -> None:
    day = _lines(demo_dir / "day.jsonl")
    cut = next(i for i, e in enumerate(day) if e["type"] == "SubjectErased")
    day_ledger.append(day[:cut], default_actor="test")
    values = {}
    for e in day_ledger.log(CANDIDATE, types=["DataCollected"]):
        values.update(e["data"]["values"])
    assert values["email"] == CANDIDATE
    assert values["last_name"] == "Durand"
    assert values["cv"].endswith(".pdf")


def test_refused_lines_are_refused(day_ledger: Ledger, demo_dir: Path) -> None:
    day_ledger.append(_lines(demo_dir / "day.jsonl"), default_actor="test")
    head = day_ledger.head()
    refused = _lines(demo_dir / "refused.jsonl")
    assert len(refused) == len(EXPECTED_FIELDS)
    described = [line.split("\t")[0] for line in
                 (demo_dir / "refused.txt").read_text(encoding="utf-8").splitlines()]
    assert described == EXPECTED_FIELDS
    for raw, field in zip(refused, EXPECTED_FIELDS, strict=True):
        with pytest.raises(InputError) as info:
            day_ledger.append([raw], default_actor="test")
        assert info.value.field == field, info.value
        assert info.value.line == 1
        assert day_ledger.head() == head
    assert day_ledger.verify()
