"""scripts/bench runs end to end on both databases (its figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL, require_pg

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.postgres
def test_bench_smoke_run_reports_every_measure(tmp_path: Path) -> None:
    require_pg()
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench.py"), "--quick", "--events", "200",
         "--single-events", "20", "--verify-entries", "500", "--pg-url", PG_URL,
         "--json-out", str(out)],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [r["database"] for r in report["results"]] == ["sqlite", "postgres"]
    for r in report["results"]:
        for key in ("append_1", "append_100"):
            assert r[key]["ledger_per_s"] > 0 and r[key]["bare_per_s"] > 0
        split = r["append_100"]["ledger_split_ms"]
        parts = ("before_tx_ms", "begin_lock_ms", "in_tx_ms", "commit_ms")
        assert sum(split[k] for k in parts) == pytest.approx(split["per_call_ms"])
        assert r["verify"]["entries"] == 500
        assert r["cli_verify"]["entries"] == 500
    assert "targets:" in done.stdout
