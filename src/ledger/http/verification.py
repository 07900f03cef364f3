"""GET /verify: ``ledger verify`` in a child process, one run at a time, shared.

Verification is long, CPU-bound Python (it holds the interpreter lock) and it
pauses the cycle collector of its process while it runs; in the server's
process it would stall every other request.  So each run is the auditor's own
command, ``ledger verify --json``, in a child process that is given the
database URL and ledger name but no master key (verification needs none).

With read URLs (hot-standby replicas, :mod:`ledger.app.replicas`) the child verifies
the replica that answers; if none does, or the child cannot (exit 2 or 3), the primary.
:meth:`VerifyRunner.run_served` also says which served (``replica`` or ``primary``).

At most one child runs at a time.  A request that arrives while one runs waits
for it to end and then joins the *next* run (started after it arrived): every
answer covers at least every entry committed before its request came in,
however many auditors ask at once.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from ledger.app.replicas import PRIMARY, REPLICA
from ledger.errors import StorageError

if TYPE_CHECKING:
    from ledger.app.replicas import Replicas

__all__ = ["VerifyRunner"]


class VerifyRunner:
    def __init__(self, url: str, name: str, *, workers: int = 1,
                 replicas: Replicas | None = None,
                 on_result: Callable[[dict[str, Any] | None], None] | None = None) -> None:
        """``on_result``: called as each run ends with its verdict (``None``: none, the
        child could not verify)."""
        self.url = url
        self.on_result = on_result
        self.name = name
        self.workers = workers
        self.replicas = replicas
        self._lock: anyio.Lock | None = None
        self._started = 0                                   # runs started so far
        # (run number, its result, which served it)
        self._last: tuple[int, dict[str, Any], str] | None = None

    def _env(self, url: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("LEDGER_MASTER_KEY", "LEDGER_KEY_DIR")}
        env["LEDGER_DATABASE_URL"] = url  # not in argv: other users can read argv
        env["LEDGER_NAME"] = self.name
        return env

    async def run(self) -> dict[str, Any]:
        return (await self.run_served())[0]

    async def run_served(self) -> tuple[dict[str, Any], str]:
        """The verdict and which database served it (``replica`` or ``primary``)."""
        if self._lock is None:
            self._lock = anyio.Lock()
        arrived_after = self._started
        async with self._lock:
            if self._last is not None and self._last[0] > arrived_after:
                return self._last[1], self._last[2]  # a run started after this request
            self._started += 1
            number = self._started
            try:
                result, by = await self._first_served()
            except Exception:  # a cancelled request (client gone) is no run's end
                self._ended(None)
                raise
            self._ended(result)
            self._last = (number, result, by)
            return result, by

    def _ended(self, result: dict[str, Any] | None) -> None:
        if self.on_result is not None:
            self.on_result(result)

    async def _first_served(self) -> tuple[dict[str, Any], str]:
        if self.replicas is not None:
            served = await anyio.to_thread.run_sync(self.replicas.reader)
            if served.by == REPLICA and served.ledger.url:
                try:
                    return await self._child(served.ledger.url), REPLICA
                except StorageError:
                    pass  # the replica failed meanwhile: the primary
        return await self._child(), PRIMARY

    async def _child(self, url: str | None = None) -> dict[str, Any]:
        """``ledger verify --json`` of ``url`` (default: the primary's) in a child."""
        cmd = [sys.executable, "-m", "ledger.cli", "verify", "--json",
               "--workers", str(self.workers)]
        done = await anyio.run_process(cmd, env=self._env(url or self.url), check=False)
        if done.returncode in (0, 1):
            result: dict[str, Any] = json.loads(done.stdout)
            return result
        # 2 (settings) or 3 (database): the message names no personal value
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise StorageError(f"ledger verify exited with {done.returncode}: "
                           f"{message[-1] if message else 'no message'}")
