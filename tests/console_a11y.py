"""axe-core over every page of the console, as the DPO and as the auditor, on the demo's
day: the accessibility results of docs/CONSOLE.md, measured.

    .venv/bin/python -m tests.console_a11y          # needs Debian's chromium

Prints one line per page: the number of axe rules that passed, and the violations by
impact (critical, serious, moderate, minor), with the ids of those found.  The browser
tests (tests/test_console_*browser*.py) fail on any serious or critical one; this
reports the rest too.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.app.application import Ledger
from ledger.domain.policy import bundled_policy
from tests.console_kit import CHROMIUM, FLAGS, Visit, demo_site

JULIEN = "julien.moreau@example.com"
IMPACTS = ("critical", "serious", "moderate", "minor")


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _pages(pseudonym: str) -> list[tuple[str, str]]:
    registers = ["retention", "requests", "breaches", "disclosures", "accesses", "ropa"]
    return [("dpo", "/console/overview"), ("dpo", "/console/person"),
            ("dpo", f"/console/person/{pseudonym}"),
            ("dpo", f"/console/person/{pseudonym}/requests"),
            ("dpo", f"/console/person/{pseudonym}/erase"),
            *[("dpo", f"/console/registers/{r}") for r in registers],
            ("dpo", "/console/inquiry"), ("dpo", "/console/integrity?seq=5"),
            ("auditor", "/console/integrity?seq=5")]


def _audit(visit: Visit) -> dict[str, Any]:
    from axe_playwright_python.sync_playwright import Axe

    response = Axe().run(visit.page).response
    found = {impact: sorted({v["id"] for v in response["violations"]
                             if v["impact"] == impact}) for impact in IMPACTS}
    return {"passes": len(response["passes"]), **found}


def main() -> int:
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="console-a11y-"))
    url, env = f"sqlite:///{folder}/ledger.db", {"LEDGER_KEY_DIR": str(folder / "keys")}
    ledger, _ = Ledger.init(url, env=env)
    ledger.clock = _Clock(datetime(2026, 4, 1, 12, 0, tzinfo=UTC))
    ledger.publish_policy(bundled_policy(), actor="test")
    pseudonym = ledger.pseudonym(JULIEN)
    failed = 0
    with demo_site(ledger, url, env, folder / "day") as (base, tokens), \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        login = Visit(browser, base, tokens)
        login.goto("/console/login")
        rows = [("-", "/console/login", _audit(login))]
        login.close()
        visits = {role: Visit(browser, base, tokens) for role in ("dpo", "auditor")}
        for role, visit in visits.items():
            visit.login(role)
        for role, path in _pages(pseudonym):
            visits[role].goto(path)
            rows.append((role, path.replace(pseudonym, "{pseudonym}"), _audit(visits[role])))
        browser.close()
    ledger.close()
    print(f"{'role':8} {'page':42} passes  crit ser mod min  violations")
    for role, path, r in rows:
        failed += len(r["critical"]) + len(r["serious"])
        ids = ", ".join(f"{i} ({impact})" for impact in IMPACTS for i in r[impact]) or "-"
        print(f"{role:8} {path:42} {r['passes']:6} {len(r['critical']):5} "
              f"{len(r['serious']):3} {len(r['moderate']):3} {len(r['minor']):3}  {ids}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
