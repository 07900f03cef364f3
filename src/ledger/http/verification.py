"""GET /verify: ``ledger verify`` in a child process, one run at a time, shared.

Verification is long, CPU-bound Python (it holds the interpreter lock) and it
pauses the cycle collector of its process while it runs; in the server's
process it would stall every other request.  So each run is the auditor's own
command, ``ledger verify --json``, in a child process that is given the
database URL and ledger name but no master key (verification needs none).

At most one child runs at a time.  A request that arrives while one runs waits
for it to end and then joins the *next* run (started after it arrived): every
answer covers at least every entry committed before its request came in,
however many auditors ask at once.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio

from ledger.errors import StorageError

__all__ = ["VerifyRunner"]


class VerifyRunner:
    def __init__(self, url: str, name: str, *, workers: int = 1) -> None:
        self.url = url
        self.name = name
        self.workers = workers
        self._lock: anyio.Lock | None = None
        self._started = 0                                   # runs started so far
        self._last: tuple[int, dict[str, Any]] | None = None  # (run number, its result)

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("LEDGER_MASTER_KEY", "LEDGER_KEY_DIR")}
        env["LEDGER_DATABASE_URL"] = self.url  # not in argv: other users can read argv
        env["LEDGER_NAME"] = self.name
        return env

    async def run(self) -> dict[str, Any]:
        if self._lock is None:
            self._lock = anyio.Lock()
        arrived_after = self._started
        async with self._lock:
            if self._last is not None and self._last[0] > arrived_after:
                return self._last[1]  # a run that started after this request: share it
            self._started += 1
            number = self._started
            result = await self._child()
            self._last = (number, result)
            return result

    async def _child(self) -> dict[str, Any]:
        cmd = [sys.executable, "-m", "ledger.cli", "verify", "--json",
               "--workers", str(self.workers)]
        done = await anyio.run_process(cmd, env=self._env(), check=False)
        if done.returncode in (0, 1):
            result: dict[str, Any] = json.loads(done.stdout)
            return result
        # 2 (settings) or 3 (database): the message names no personal value
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise StorageError(f"ledger verify exited with {done.returncode}: "
                           f"{message[-1] if message else 'no message'}")
