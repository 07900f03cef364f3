"""scripts/bench_http.py runs end to end on both databases (its figures are not asserted)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_http_smoke_run(db_url: str, env: dict[str, str]) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bench_http
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    result = bench_http.run(db_url, "main", seconds=1, clients=4, batch=5,
                            env={**os.environ, **env})
    assert result["requests"] > 0 and result["appends"] == result["requests"] * 5
    assert result["errors"] == 0 and result["server_error_lines"] == 0
    assert result["verify"]["ok"] is True and result["api_verify_ok"] is True
    assert result["verify"]["entries"] == 1 + result["appends"]  # the policy, then the load
    for key in ("requests_per_s", "appends_per_s", "p50_ms", "p99_ms"):
        assert result[key] > 0


@pytest.mark.slow
def test_bench_http_reads_smoke_run(ledger: object, db_url: str, env: dict[str, str]) -> None:
    from tests.proof_helpers import fill

    fill(ledger, 40)  # type: ignore[arg-type]
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bench_http_reads
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    result = bench_http_reads.run(db_url, "main", rounds=3, env={**os.environ, **env})
    assert result["entries"] == 40
    for what in ("consent", "export", "inclusion_proof"):
        assert result[what]["statuses"] == [200], (what, result)
        assert result[what]["runs"] == 3 and result[what]["median_ms"] > 0
