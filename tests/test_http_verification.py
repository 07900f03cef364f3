"""GET /verify's runner: one child at a time; a request shares the next run, never an older one."""

from __future__ import annotations

from typing import Any

import anyio

from ledger.http.verification import VerifyRunner


def test_one_run_at_a_time_and_late_requests_share_the_next() -> None:
    runner = VerifyRunner("sqlite:///unused.db", "main")
    running = 0
    most = 0
    runs: list[int] = []
    release = anyio.Event()   # the first run lasts until every late request has come

    async def child() -> dict[str, Any]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        runs.append(len(runs) + 1)
        if runs[-1] == 1:
            await release.wait()
        running -= 1
        return {"ok": True, "entries": 0, "head": "", "run": runs[-1]}

    runner._child = child  # type: ignore[method-assign]
    answers: dict[str, int] = {}

    async def ask(who: str) -> None:
        answers[who] = (await runner.run())["run"]

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(ask, "first")
            while not running:
                await anyio.sleep(0)            # the first run is going
            for k in range(5):
                tg.start_soon(ask, f"late{k}")  # all arrive during run 1
            for _ in range(20):
                await anyio.sleep(0)
            release.set()
        await ask("after")                     # arrives when nothing runs

    anyio.run(main)
    assert most == 1
    assert answers["first"] == 1
    assert {answers[f"late{k}"] for k in range(5)} == {2}  # one shared run, started later
    assert answers["after"] == 3 and len(runs) == 3
