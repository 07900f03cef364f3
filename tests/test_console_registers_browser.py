"""The registers and the inquiry form in a real browser (headless Chromium from Debian,
driven by Playwright) on both databases: a DPO walks every register's tab, filters one,
downloads a CSV, fills the inquiry form and gets the pack; axe-core finds no serious
violation on any page, no request leaves the server's origin, the browser logs no error.
With ``LEDGER_SCREENSHOTS=1`` the walk writes docs/console/registers.png and inquiry.png."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from ledger.app.application import Ledger
from tests.console_kit import Visit, live_console
from tests.inquiry_kit import fill

TABS = ["Conservation des données", "Demandes d’exercice des droits", "Violations de données",
        "Communications", "Consultations des données personnelles",
        "Registre des traitements (art. 30)"]


def _checked(visit: Visit, where: str) -> None:
    assert visit.axe() == [], where
    assert visit.off_origin == [], where
    assert visit.console_errors == [], where


def test_a_dpo_walks_the_registers_and_builds_an_inquiry_pack(
        browser: Any, ledger: Ledger, db_url: str, env: dict[str, str],
        tmp_path: Path) -> None:
    fill(ledger, tmp_path / "day")
    with live_console(ledger, db_url, env) as (base, tokens):
        visit = Visit(browser, base, tokens)
        try:
            visit.login("dpo")
            page = visit.page
            page.click("header nav >> text=Registres")
            assert page.url.endswith("/console/registers/retention")
            for tab in TABS:
                page.click(f"nav.tabs >> text={tab}")
                assert page.locator("nav.tabs [aria-current=page]").inner_text() == tab
                assert page.title().startswith(tab)
                _checked(visit, tab)
            page.click(f"nav.tabs >> text={TABS[0]}")
            page.select_option("#f-status", "active")
            page.fill("#f-as_of", "2026-03-03")
            with page.expect_navigation():
                page.click("form.register-filters button[type=submit]")
            assert "status=active" in page.url and "as_of=2026-03-03" in page.url
            assert page.locator("table.register tbody tr[data-seq]").count() > 0
            _checked(visit, "retention filtered")
            visit.screenshot("registers")
            with page.expect_download() as got:
                page.click(".downloads >> text=CSV")
            csv = Path(got.value.path()).read_bytes()
            assert csv.startswith(b"\xef\xbb\xbf") and b"active" in csv

            page.click("header nav >> text=Contrôle")
            assert page.url.endswith("/console/inquiry")
            _checked(visit, "inquiry")
            page.fill("#i-from", "2026-03-01")
            page.fill("#i-to", "2026-03-31")
            page.fill("#i-reference", "CNIL-2026-042")
            page.check("#i-p-recruitment")
            page.locator("h1").scroll_into_view_if_needed()
            visit.screenshot("inquiry")
            with page.expect_download(timeout=120_000) as got:
                page.click("form.inquiry-form button[type=submit]")
            with zipfile.ZipFile(io.BytesIO(Path(got.value.path()).read_bytes())) as z:
                assert "rapport.html" in z.namelist()
                assert "evidence/entries.jsonl" in z.namelist()
            page.fill("#i-to", "2026-02-01")  # earlier than from: the page names the field
            with page.expect_navigation():
                page.click("form.inquiry-form button[type=submit]")
            assert "(from)" in page.locator("#form-error").inner_text()
            assert visit.console_errors == [  # the browser reports the 422 itself
                "Failed to load resource: the server responded with a status of 422 "
                "(Unprocessable Entity)"]
            visit.console_errors.clear()
            _checked(visit, "inquiry refused")
        finally:
            visit.close()
