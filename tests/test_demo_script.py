"""The README's first command, ``scripts/demo``, runs to the end and proves what it says.

It runs in a copy of the repository's scripts beside the project's own ``.venv``
(linked, so nothing is installed), so the checkout's ``demo/`` is left alone.
Its own checks (``die``) make it exit 1 when a promise it prints does not hold.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_demo_runs_and_its_checks_pass(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    venv = Path(sys.executable).parent.parent
    if not (venv / "bin" / "ledger").exists():
        pytest.fail(f"the project's virtual environment is not at {venv}")
    (repo / ".venv").symlink_to(venv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    done = subprocess.run([str(repo / "scripts" / "demo")], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "What this run proves" in out
    assert "ledger accesses" in out and "reads" in out
    assert "Durand" not in out.split("18:20: the DPO erases Camille")[1].split(
        "What the rules refuse")[0].replace("Camille's name", "")
