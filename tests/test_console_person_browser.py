"""The Person pages in a real browser (headless Chromium from Debian, driven by Playwright),
on both databases: search -> the person's page -> a download -> a rights request recorded
-> the erasure confirmed; on each page no request leaves the origin, no console error,
no serious or critical axe-core violation, and the identifier never in the address bar
or the title."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.app.application import Ledger
from tests.console_kit import Visit, demo_site

JULIEN = "julien.moreau@example.com"


@pytest.fixture
def site(ledger: Ledger, db_url: str, env: dict[str, str], tmp_path: Path) -> Any:
    with demo_site(ledger, db_url, env, tmp_path / "day") as served:
        yield served


def _clean(visit: Visit) -> None:
    visit.assert_clean()
    assert "julien" not in visit.page.url.lower()
    assert "julien" not in visit.page.title().lower()


def test_search_person_export_request_erase(browser: Any, site: Any, ledger: Ledger) -> None:
    base, tokens = site
    pseudonym = ledger.pseudonym(JULIEN)
    visit = Visit(browser, base, tokens)
    page = visit.page
    try:
        visit.login("dpo")
        page.get_by_role("link", name="Une personne").click()
        page.wait_for_url("**/console/person")
        _clean(visit)
        page.fill("#identifier", JULIEN)
        with page.expect_navigation():
            page.get_by_role("button", name="Ouvrir la page de la personne").click()
        assert page.url.endswith(f"/console/person/{pseudonym}")
        assert page.get_by_text("Moreau").first.is_visible()
        _clean(visit)
        visit.screenshot("person")

        with page.expect_download() as download:
            page.get_by_role("link", name="Export (JSON)").click()
        doc = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
        assert doc["subject"] == pseudonym and doc["collections"][0]["values"]["last_name"] \
            == "Moreau"

        page.get_by_role("link", name="Enregistrer une demande d’exercice de droits").click()
        page.wait_for_url(f"**/console/person/{pseudonym}/requests")
        _clean(visit)
        page.fill("#request_id", "DPO-2026-0200")
        page.select_option("#right", "erasure")
        page.select_option("#channel", "form")
        with page.expect_navigation():
            page.get_by_role("button", name="Enregistrer la demande").click()
        assert page.get_by_text("DPO-2026-0200").first.is_visible()
        _clean(visit)
        assert [e["data"]["right"] for e in ledger.log(JULIEN)
                if e["type"] == "RightsRequestReceived"] == ["erasure"]

        page.get_by_role("link", name="Retour à la page de la personne").click()
        page.wait_for_url(f"**/console/person/{pseudonym}")
        page.get_by_role("link", name="Effacer cette personne…").click()
        page.wait_for_url(f"**/console/person/{pseudonym}/erase")
        _clean(visit)
        visit.screenshot("erase")
        page.select_option("#ground", "objection")
        page.check("input[name=confirm]")
        with page.expect_navigation():
            page.get_by_role("button", name="Effacer définitivement").click()
        assert page.url.endswith(f"/console/person/{pseudonym}")
        assert "Cette personne a été effacée" in page.locator("main").inner_text()
        assert "Moreau" not in page.locator("main").inner_text()
        _clean(visit)
    finally:
        visit.close()
    assert ledger.erasure_preview(JULIEN).keys == 0 and ledger.verify().ok


SOPHIE = "sophie.bernard@example.fr"  # under a legal hold on the demo's day (HOLD-2026-004)


def test_a_legal_hold_refuses_the_erasure_and_the_auditor_sees_no_person(
        browser: Any, site: Any, ledger: Ledger) -> None:
    base, tokens = site
    pseudonym = ledger.pseudonym(SOPHIE)
    visit = Visit(browser, base, tokens)
    page = visit.page
    try:
        visit.login("dpo")
        visit.goto("/console/person")
        page.fill("#identifier", SOPHIE)
        with page.expect_navigation():
            page.get_by_role("button", name="Ouvrir la page de la personne").click()
        page.get_by_role("link", name="Effacer cette personne…").click()
        page.wait_for_url(f"**/console/person/{pseudonym}/erase")
        assert "Un gel juridique est actif (HOLD-2026-004)" in page.locator("main").inner_text()
        assert page.get_by_role("button", name="Effacer définitivement").count() == 0
        visit.assert_clean()
    finally:
        visit.close()
    assert ledger.erasure_preview(SOPHIE).keys > 0  # nothing destroyed
    auditor = Visit(browser, base, tokens)
    try:
        auditor.login("auditor")
        assert auditor.page.get_by_role("link", name="Une personne").count() == 0
        for path in ("/console/person", f"/console/person/{pseudonym}",
                     f"/console/person/{pseudonym}/export/json",
                     f"/console/person/{pseudonym}/erase", "/console/registers/retention"):
            response = auditor.goto(path)
            assert response.status == 403, path
            assert "Bernard" not in auditor.page.content()
        assert auditor.off_origin == []
    finally:
        auditor.close()
