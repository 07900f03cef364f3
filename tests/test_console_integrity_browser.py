"""The overview and the integrity page in a real browser (headless Chromium from Debian,
driven by Playwright), on both databases: the charts load as images, "Verify now" and the
proof form work without script, no request leaves the server's origin, no console error
(a CSP violation is one), axe-core finds no serious or critical violation; the auditor
reaches the integrity page, not the overview.  Screenshots: docs/console/overview.png and
integrity.png (written with LEDGER_SCREENSHOTS=1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from ledger.app.application import Ledger
from ledger.app.proofs import prover_of
from tests.console_kit import Visit, live_console
from tests.inquiry_kit import fill
from tests.test_console_overview import more_events


@pytest.fixture
def site(ledger: Ledger, db_url: str, env: dict[str, str], tmp_path: Path) \
        -> Iterator[tuple[str, dict[str, str]]]:
    fill(ledger, tmp_path / "day")
    more_events(ledger)  # late requests, breach clocks running on 12 April
    prover_of(ledger).checkpoint()
    with live_console(ledger, db_url, env) as served:
        yield served


def test_overview_and_integrity_in_the_browser(browser: Any,
                                               site: tuple[str, dict[str, str]]) -> None:
    base, tokens = site
    visit = Visit(browser, base, tokens)
    try:
        visit.login("dpo")
        assert visit.page.url.endswith("/console/overview")  # the DPO's home
        visit.goto("/console/overview?as_of=2026-04-12")
        page = visit.page
        images = page.locator("img.chart-image")
        assert images.count() == 3
        for i in range(3):  # each chart drawn (an SVG that loaded), with its alt text
            img = images.nth(i)
            assert img.evaluate("e => e.complete && e.naturalWidth > 0")
            assert len(img.get_attribute("alt") or "") > 20
        assert "BRK-2026-0412-01" in page.locator("#main").inner_text()  # its clock runs
        visit.assert_clean()
        visit.screenshot("overview")
        # htmx: the verdict replaces its block in place, the page is not reloaded
        page.evaluate("window.kept = 'this page'")
        page.get_by_role("button", name="Vérifier maintenant").click()
        expect(page.locator("#verification")).to_contain_text("intactes")
        assert page.evaluate("window.kept") == "this page"
        assert page.url.endswith("/console/overview?as_of=2026-04-12")
        assert page.locator("#verification").count() == 1

        page.get_by_role("link", name="Intégrité", exact=True).click()
        page.wait_for_url("**/console/integrity")
        page.fill("#in-seq", "5")
        with page.expect_navigation():
            page.get_by_role("button", name="Prouver").click()
        assert "?seq=5" in page.url
        assert "la preuve est vérifiée" in page.locator("#main").inner_text()
        visit.assert_clean()
        visit.screenshot("integrity")
    finally:
        visit.close()
    auditor = Visit(browser, base, tokens)
    try:
        auditor.login("auditor")
        assert auditor.page.url.endswith("/console/integrity")
        assert auditor.page.get_by_role("link", name="Vue d’ensemble").count() == 0
        response = auditor.goto("/console/overview")
        assert response.status == 403
        auditor.console_errors.clear()  # the browser reports the 403 itself
        assert auditor.off_origin == []
    finally:
        auditor.close()


def test_verify_now_works_without_javascript(browser: Any,
                                             site: tuple[str, dict[str, str]]) -> None:
    """Progressive enhancement: with scripts off the same button posts the form and the
    browser comes back to the page, the verdict shown."""
    base, tokens = site
    visit = Visit(browser, base, tokens, javascript=False)
    try:
        visit.login("auditor")
        page = visit.page
        assert "intactes" not in page.locator("#verification").inner_text()
        with page.expect_navigation():
            page.get_by_role("button", name="Vérifier maintenant").click()
        page.wait_for_url("**/console/integrity")
        assert "intactes" in page.locator("#verification").inner_text()
        assert visit.off_origin == [] and visit.console_errors == []
    finally:
        visit.close()
