"""The PDF of the report, printed from the same HTML by headless Chromium (Debian's
``chromium`` package).  Without it the HTML is still there: the caller says what to
install."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["CHROMIUM", "FLAGS", "chromium", "print_pdf"]

CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-pdf-header-footer")
TIMEOUT = 180


def chromium() -> str | None:
    """The browser's path (``LEDGER_CHROMIUM`` if set), or None when it is not installed."""
    given = os.environ.get("LEDGER_CHROMIUM")
    if given is not None:
        return given if Path(given).is_file() else None
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    return shutil.which("chromium")


def print_pdf(html: Path, pdf: Path) -> str | None:
    """Print ``html`` to ``pdf``; returns None, or why it could not."""
    browser = chromium()
    if browser is None:
        return "chromium is not installed (apt-get install chromium)"
    with tempfile.TemporaryDirectory(prefix="ledger-chromium-") as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}",
               f"--print-to-pdf={pdf}", html.resolve().as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, check=False)  # noqa: S603
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"chromium failed ({exc})"
    if done.returncode != 0 or not pdf.is_file():
        return f"chromium failed (exit code {done.returncode})"
    return None
