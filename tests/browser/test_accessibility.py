"""Every main page passes axe-core (installed from npm) with no serious or critical violation,
at 375 and 1280 pixels wide, and its HTML is valid for the Nu HTML checker (vnu-jar from npm,
run with Java); screenshots of each go to screenshots/."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    DEMO_PASSWORD,
    ROOT,
    SCREENSHOTS,
    read_the_browsers_language,
    sign_in,
)

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
PUBLIC_PAGES = {
    "home": "/",
    "directory": "/organisations",
    # An old page number: the pager shows its Previous link.
    "directory-page-2": "/organisations?page=2",
    "needs": "/needs",
    "challenges": "/challenges?sort=deadline",
    "listing": "/listings/1",
    "organisation": "/organisations/1",
    "signup": "/signup",
    "login": "/login",
    "announcements": "/announcements",
}
# A territory's page speaks the territory's language whatever the browser's (Attica: Greek).
TERRITORY_PAGES = {"territory": "/t/attica"}
COORDINATOR_PAGES = {
    "review-queue": "/coordination/proposals",
    "proposal": "/proposals/1",
    "dashboard": "/coordination/dashboard",
    "matching-settings": "/coordination/matching",
    "verification": "/coordination/organisations",
    "new-announcement-form": "/announcements/new",
}
MEMBER_PAGES = {
    "my-organisations": "/my/organisations",
    "new-need-form": "/organisations/1/listings/new/need",
    "my-proposals": "/my/proposals",
    "account": "/account",
    "erase-account": "/account/erase",
    "close-organisation": "/organisations/1/close",
    "edit-organisation": "/organisations/1/edit",
}


def _serious_violations(page: Any) -> list[str]:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci (make test-browser does it)")
    page.evaluate(AXE.read_text())
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`);
        }"""
    )


def _check(page: Any, name: str, path: str, width: int, html: dict[str, str]) -> list[str]:
    response = page.goto(path)
    assert response.status == 200, (path, response.status)
    html[name] = response.text()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-{width}.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    problems = [f"{name} @{width}: {v}" for v in _serious_violations(page)]
    if overflow > 1:
        problems.append(f"{name} @{width}: the page is {overflow}px wider than the screen")
    return problems


@pytest.mark.parametrize("width", [375, 1280])
def test_main_pages_are_accessible_at_both_widths(new_page: Any, width: int) -> None:
    problems: list[str] = []
    html: dict[str, str] = {}
    visitor = new_page(width=width, bypass_csp=True)
    for name, path in (PUBLIC_PAGES | TERRITORY_PAGES).items():
        problems += _check(visitor, name, path, width, html)
    coordinator = new_page(width=width, bypass_csp=True)
    sign_in(coordinator, "coordinator@example.org")
    for name, path in COORDINATOR_PAGES.items():
        problems += _check(coordinator, name, path, width, html)
    member = new_page(width=width, bypass_csp=True)
    sign_in(member, "alan.southern@example.org")
    for name, path in MEMBER_PAGES.items():
        problems += _check(member, name, path, width, html)
    assert problems == []
    if width == 1280:
        assert _invalid_html(html, tmp_folder=SCREENSHOTS / "html") == []


@pytest.mark.parametrize("language", ["el", "ar"])
@pytest.mark.parametrize("width", [375, 1280])
def test_greek_and_arabic_pages_are_accessible(new_page: Any, width: int, language: str) -> None:
    """The same pages in Greek, and in Arabic from right to left."""
    problems: list[str] = []
    html: dict[str, str] = {}
    direction = "rtl" if language == "ar" else "ltr"
    visitor = new_page(width=width, bypass_csp=True, locale=language)
    for name, path in PUBLIC_PAGES.items():
        problems += _check(visitor, f"{name}-{language}", path, width, html)
        assert visitor.locator("html").get_attribute("lang") == language, path
        assert visitor.locator("html").get_attribute("dir") == direction, path
    member = new_page(width=width, bypass_csp=True, locale=language)
    _sign_in_by_field_names(member, "alan.southern@example.org")
    for name, path in MEMBER_PAGES.items():
        problems += _check(member, f"{name}-{language}", path, width, html)
    coordinator = new_page(width=width, bypass_csp=True, locale=language)
    _sign_in_by_field_names(coordinator, "coordinator@example.org")
    for name in ("review-queue", "proposal", "dashboard"):
        problems += _check(coordinator, f"{name}-{language}", COORDINATOR_PAGES[name], width, html)
    assert problems == []
    if width == 1280:
        assert _invalid_html(html, tmp_folder=SCREENSHOTS / "html") == []


def _sign_in_by_field_names(page: Any, email: str) -> None:
    """Sign in whatever the page's language (the labels are translated, the names are not)."""
    page.goto("/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/login" not in url)
    read_the_browsers_language(page)


def _invalid_html(pages: dict[str, str], tmp_folder: Path) -> list[str]:
    """Errors the Nu HTML checker finds in the pages, as 'page:line: message'."""
    java = shutil.which("java")
    if not VNU.exists() or java is None:
        pytest.skip("the Nu HTML checker needs npm ci (vnu-jar) and Java")
    tmp_folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name, text in pages.items():
        path = tmp_folder / f"{name}.html"
        path.write_text(text)
        files.append(str(path))
    result = subprocess.run(
        [java, "-jar", str(VNU), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    messages = json.loads(result.stderr or "{}").get("messages", [])
    return [
        f"{Path(m.get('url', '')).stem}:{m.get('lastLine')}: {m.get('message')}"
        for m in messages
        if m.get("type") == "error"
    ]
