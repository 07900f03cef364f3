"""scripts/bench_console.py runs end to end on both databases (its figures are not asserted)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench_console() -> ModuleType:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bench_console
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return bench_console


@pytest.mark.slow
def test_bench_console_smoke_run(db_url: str, env: dict[str, str]) -> None:
    bench_console = _bench_console()
    result = bench_console.run(db_url, env["LEDGER_KEY_DIR"], entries=300, months=1, rounds=2,
                               verify_rounds=1)
    assert result["entries"] == 301  # the policy, then events 100 at a time
    names = list(result["pages"])
    assert names[:2] == ["overview", "person (search -> page)"]
    assert [n for n in names if n.startswith("registers/")] == [
        *(f"registers/{r}" for r in bench_console.REGISTERS), "registers/retention CSV"]
    assert "integrity?seq=150" in names and "integrity?seq=150 (auditor)" in names
    assert names[-1] == "verify (POST -> integrity)"
    for name, t in result["pages"].items():
        assert t["rounds"] == (1 if name.startswith("verify") else 2), name
        assert t["first_ms"] > 0 and t["median_ms"] > 0 and t["p95_ms"] >= t["median_ms"]
        assert t["bytes"] > 0, name


def test_bench_console_refuses_a_negative_count() -> None:
    bench_console = _bench_console()
    with pytest.raises(SystemExit, match="--rounds: must be 1 or more"):
        bench_console.main(["--rounds", "0"])
