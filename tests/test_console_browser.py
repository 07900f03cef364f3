"""The console in a real browser (headless Chromium from Debian, driven by Playwright),
on both databases: logging in as each role, the language, a form without its CSRF token,
and on every page visited: no request leaves the server's origin, no console error (a
CSP violation is one), and axe-core finds no serious or critical accessibility violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.app.application import Ledger
from tests.console_kit import Visit, demo_site


@pytest.fixture
def site(ledger: Ledger, db_url: str, env: dict[str, str], tmp_path: Path) \
        -> Any:
    with demo_site(ledger, db_url, env, tmp_path / "day") as served:
        yield served


def test_login_each_role_and_the_language(browser: Any, site: Any) -> None:
    base, tokens = site
    visit = Visit(browser, base, tokens)
    try:
        visit.goto("/console/")
        assert visit.page.url.endswith("/console/login")
        assert visit.page.locator("html").get_attribute("lang") == "fr"
        visit.assert_clean()
        visit.screenshot("login")
        visit.page.fill("#token", "ldg_" + "x" * 43)
        visit.page.click("button[type=submit].primary")
        assert "révoqué" in visit.page.locator("[role=alert]").inner_text()
        assert visit.console_errors == [  # the browser reports the refusal itself
            "Failed to load resource: the server responded with a status of 401 "
            "(Unauthorized)"]
        visit.console_errors.clear()
        visit.login("dpo")
        assert "/console/login" not in visit.page.url
        assert "dpo-desk" in visit.page.locator(".who").inner_text()
        visit.assert_clean()
        with visit.page.expect_navigation():
            visit.page.click("button[name=lang][value=en]")
        assert visit.page.locator("html").get_attribute("lang") == "en"
        assert visit.page.get_by_role("button", name="Log out").is_visible()
        visit.page.get_by_role("button", name="Log out").click()
        visit.page.wait_for_url("**/console/login")
    finally:
        visit.close()
    auditor = Visit(browser, base, tokens)
    try:
        auditor.login("auditor")
        assert "audit-firm" in auditor.page.locator(".who").inner_text()
        auditor.assert_clean()
    finally:
        auditor.close()


def test_a_form_stripped_of_its_csrf_token_is_refused(browser: Any, site: Any) -> None:
    base, tokens = site
    visit = Visit(browser, base, tokens)
    try:
        visit.login("dpo")
        visit.page.evaluate(  # what a forged form would send: the same fields, no token
            "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
        with visit.page.expect_navigation():
            visit.page.click("button[name=lang]")
        assert "jeton de sécurité" in visit.page.locator("[role=alert]").inner_text()
        visit.goto("/console/")
        assert visit.page.locator("html").get_attribute("lang") == "fr"  # nothing was done
        assert visit.off_origin == []
    finally:
        visit.close()
