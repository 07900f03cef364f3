"""scripts/bench_projections.py runs end to end at a small size (its figures are not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_projections_smoke(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_projections.py"), "--entries", "400",
         "--rounds", "1", "--json-out", str(out)],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["entries"] == 400  # the policy, then 399 events
    assert report["rebuild"]["events_per_s"] > 0
    for key in ("consent_ms", "export_ms", "cli_consent_ms", "cli_export_ms"):
        assert report[key] > 0
    assert report["export_entries"] >= 1
    assert "rebuild" in done.stdout and "target" in done.stdout
