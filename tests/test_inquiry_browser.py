"""The inquiry report in a real browser (headless Chromium driven by Playwright), on both
databases: no console message, no network request but the file itself, every section,
the charts drawn with the expected number of marks; and the PDF's pages and text.

Chromium and poppler-utils come from Debian (scripts/setup-browser, run by scripts/test
under CI=true); Playwright drives the system's browser (never ``playwright install``).
Without a browser the tests are skipped locally and FAIL under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from ledger.app.application import Ledger
from tests.console_kit import CHROMIUM
from tests.inquiry_kit import fill, run

SECTIONS_FR = ["Périmètre, méthode et intégrité", "Consentement (art. 7)",
               "Violations de données (art. 33 et 34)", "Index des preuves"]


def _need(what: str, ok: bool) -> None:
    if ok:
        return
    why = f"{what} is not installed (scripts/setup-browser installs it)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(why + " (CI=true: the browser tests must run)")
    pytest.skip(why)


@pytest.fixture
def pack(ledger: Ledger, cli_env: dict[str, str], tmp_path: Path) -> Path:
    """A pack of March 2026 (the demo's day) with its PDF."""
    _need("chromium", Path(CHROMIUM).is_file())
    fill(ledger, tmp_path / "day")
    out = tmp_path / "pack"
    done = run(cli_env, "inquiry", "-o", str(out), "--from", "2026-03-01", "--to",
               "2026-03-31", "--reference", "CNIL-2026-042", "--json")
    assert json.loads(done.stdout)["pdf"] == "rapport.pdf"
    return out


def test_report_in_the_browser(browser: Any, pack: Path) -> None:
    page = browser.new_page()
    console: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        "file://") else route.abort())
    url = (pack / "rapport.html").resolve().as_uri()
    page.goto(url)
    page.wait_for_load_state("load")
    assert console == []
    assert requests == [url]  # the file itself, nothing else attempted
    for n in range(1, 9):
        section = page.locator(f'section[data-section="{n}"]')
        assert section.count() == 1
        assert section.locator("h2").inner_text().startswith(f"{n}. ")
        assert section.locator(".q").inner_text().strip()
    assert page.locator("#evidence tbody tr").count() > 10
    consent = page.locator("#chart-consent")
    # March 2026 has 31 days, three bars a day (given, refused, withdrawn)
    assert consent.get_attribute("data-marks") == "93"
    assert consent.locator("svg g[id^='mark-consent-']").count() == 93
    box = consent.locator("svg").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    heights = consent.locator("svg g[id^='mark-consent-'] path").evaluate_all(
        "ps => ps.map(p => p.getBBox().height)")
    # every choice of the demo's day was made on 3 March: three bars are drawn (given,
    # refused, withdrawn), the other 90 have no height
    assert sum(1 for h in heights if h > 1) == 3
    requests_chart = page.locator("#chart-requests svg g[id^='mark-requests-']")
    assert requests_chart.count() == 2
    assert page.locator("figure.chart figcaption").count() == 2
    page.close()


def test_pdf_pages_and_text(pack: Path) -> None:
    pdf = pack / "rapport.pdf"
    reader = PdfReader(pdf)
    # a cover (title, table of contents) then each of the 8 sections and the index from a
    # new page: at least 10 pages, each numbered "n / total"
    pages = len(reader.pages)
    assert pages >= 10
    _need("pdftotext", shutil.which("pdftotext") is not None)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    for title in SECTIONS_FR:
        assert title in text
    assert "CNIL-2026-042" in text and "BRK-2026-0303-01" in text
    assert f"1 / {pages}" in text and f"{pages} / {pages}" in text
    first = reader.pages[0].extract_text()
    assert "Réponse à la demande de la CNIL" in first and "Sommaire" in first
