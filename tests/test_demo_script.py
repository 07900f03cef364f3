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
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DemoRun:
    repo: Path
    env: dict[str, str]
    out: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One run of ``scripts/demo`` in a copy of the scripts, for the tests below."""
    repo = tmp_path_factory.mktemp("demo") / "repo"
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
    return DemoRun(repo, env, done.stdout)


@pytest.mark.slow
def test_the_demo_runs_and_its_checks_pass(demo: DemoRun) -> None:
    out = demo.out
    assert "What this run proves" in out
    assert "ledger accesses" in out and "reads" in out
    assert "Durand" not in out.split("18:20: the DPO erases Camille")[1].split(
        "What the rules refuse")[0].replace("Camille's name", "")


@pytest.mark.slow
def test_the_demo_prints_a_console_command_and_a_token_that_log_in(demo: DemoRun) -> None:
    """The demo's last lines: the command that serves the console and a DPO token; run as
    printed, the console answers and the token logs in."""
    import re
    import time

    import httpx

    from tests.console_kit import csrf_of
    from tests.http_kit import free_port

    repo, env = demo.repo, demo.env
    tail = demo.out.split("The DPO's console")[1]
    command = re.search(r"^  (\.venv/bin/ledger serve .*)$", tail, re.M)
    token = re.search(r"^  (ldg_\S+)$", tail, re.M)
    assert command and token, tail
    port = free_port()
    argv = command.group(1).replace("--port 8080", f"--port {port}").split()
    server = subprocess.Popen(argv, cwd=repo, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as client:
            for _ in range(100):
                try:
                    login = client.get("/console/")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                pytest.fail("the printed command did not serve the console")
            assert login.url.path == "/console/login"
            r = client.post("/console/login", data={"csrf": csrf_of(login.text),
                                                    "token": token.group(1)})
            assert r.status_code == 200 and "dpo-console" in r.text
    finally:
        server.terminate()
        server.wait(timeout=30)
