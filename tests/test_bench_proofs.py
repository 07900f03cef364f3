"""scripts/bench_proofs.py runs on a filled ledger, on both databases (figures not asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from ledger.app.application import Ledger
from tests.proof_helpers import fill

ROOT = Path(__file__).resolve().parents[1]


def test_bench_proofs_run_reports_every_measure(ledger: Ledger, db_url: str,
                                                env: dict[str, str]) -> None:
    fill(ledger, 300)
    spec = importlib.util.spec_from_file_location("bench_proofs",
                                                  ROOT / "scripts" / "bench_proofs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_proofs"] = module
    spec.loader.exec_module(module)
    out = module.run(db_url, "main", env=env, rounds=3, cli_rounds=1, bundle_rounds=2)
    assert out["entries"] == 300
    for key in ("prove_in_process", "consistency_in_process", "prove_cli", "checkpoint"):
        assert out[key]["runs"] >= 1 and out[key]["median_ms"] > 0
    assert out["bundle_verify_per_s"] > 0 and out["tree_head_rows_read"] >= 1
    assert out["bundle_entries"] == 300
    assert len(out["bundle_verify_rounds_per_s"]) == 2
    assert set(out["targets"]) == {"prove_under_50ms_in_process", "prove_command_under_50ms",
                                   "bundle_verify_100k_per_s"}
