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
         "--history", "5,50", "--history-budget", "0", "--space-entries", "300",
         "--parallel-events", "100",
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
        hist = r["history"]["rows"]
        assert [h["history"] for h in hist] == [5, 50]
        for h in hist:
            assert h["append_1"]["calls"] >= 3 and h["append_100"]["calls"] >= 3
            assert h["append_1"]["per_s"] > 0 and h["append_100"]["per_s"] > 0
        assert hist[0]["append_100"]["slowdown"] == 1.0
        space = r["space"]
        assert space["entries"] == 300
        names = {x["name"] for x in space["ledger"]}
        assert {"ledger_events", "ledger_events_event_id", "ledger_events_stream",
                "ledger_subject_keys"} <= names
        assert all(x["bytes"] > 0 for x in space["ledger"] + space["bare"])
        summary = space["summary"]
        assert 0 < summary["ledger_write_side"] <= summary["ledger_all"]
        assert summary["ratio_write_side"] == pytest.approx(
            summary["ledger_write_side"] / summary["bare_all"])
        assert space["event_columns"]["hash"] >= 64  # hex text (PostgreSQL adds a header)
    assert "parallel" not in report["results"][0]
    par = report["results"][1]["parallel"]
    assert par["processes"] == 4 and par["alone_per_s"] > 0 and par["together_per_s"] > 0
    assert "targets:" in done.stdout
    assert "space at 300 entries" in done.stdout and "4 ledgers at once" in done.stdout


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_bench_http_measures_bare_eventsourcing_in_the_same_run(kind: str, tmp_path: Path) \
        -> None:
    if kind == "postgres":
        require_pg()
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bench_http
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    rate = bench_http.bare_rate(kind, PG_URL, tmp_path, 300)
    assert rate > 0
    if kind == "sqlite":
        assert [p.name for p in tmp_path.glob("bare-*.db")] == ["bare-http.db"]
