"""Pages that scrolled sideways on a phone, found by a walk through the product in Greek and
Arabic: a table without its scrolling wrapper (an organisation's members, the admin's users)
and a Latin name set left to right as a whole list item of a right-to-left list (a
territory's coordinators). Checked without axe-core, so they run wherever Chromium does."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

PHONE = 375


def _overflow(page: Any, path: str) -> int:
    response = page.goto(path)
    assert response.status == 200, (path, response.status)
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


@pytest.mark.parametrize("language", ["el", "ar"])
def test_no_page_scrolls_sideways_on_a_phone(new_page: Any, language: str) -> None:
    wider: dict[str, int] = {}
    visitor = new_page(width=PHONE, locale=language)
    # The territory's own language is Arabic: its page is right to left whatever the browser's.
    for path in ("/t/tanger-tetouan-al-hoceima", "/t/attica"):
        wider[path] = _overflow(visitor, path)
    owner = new_page(width=PHONE, locale=language)
    sign_in(owner, "alan.southern@example.org")
    owner.context.add_cookies(
        [{"name": "language", "value": language, "url": owner.url}]
    )  # a member of a Liverpool organisation reads English unless they choose
    wider["/organisations/1/members"] = _overflow(owner, "/organisations/1/members")
    admin = new_page(width=PHONE, locale=language)
    sign_in(admin, "admin@example.org")
    wider["/admin/users"] = _overflow(admin, "/admin/users")
    assert {path: px for path, px in wider.items() if px > 1} == {}


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_proposals_reasons_are_read_across_a_phone(new_page: Any, language: str) -> None:
    """The explanation's reason column had a third of a phone, a word or two a line: now each
    reason has most of the width, in either direction, and the page still does not scroll
    sideways."""
    coordinator = new_page(width=PHONE, locale=language)
    sign_in(coordinator, "coordinator@example.org")
    assert _overflow(coordinator, "/proposals/1") <= 1
    assert coordinator.locator("html").get_attribute("lang") == language
    reasons = coordinator.locator(".explanation tbody td:nth-child(3)")
    assert reasons.count() > 0
    widths = [box["width"] for box in (r.bounding_box() for r in reasons.all()) if box]
    assert widths and min(widths) >= 0.6 * PHONE, widths
    # A rule's points read "+22" in either direction: right to left they showed "22+".
    assert set(coordinator.evaluate(_PLUS_BEFORE_DIGITS)) == {True}


# Whether each rule's "+" stands left of its first digit.
_PLUS_BEFORE_DIGITS = """() => [...document.querySelectorAll(".explanation tbody td:nth-child(2)")]
  .map(cell => {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let text = walker.nextNode();
    while (text && !text.data.includes("+")) text = walker.nextNode();
    const at = text.data.indexOf("+");
    const box = offset => {
      const range = document.createRange();
      range.setStart(text, offset);
      range.setEnd(text, offset + 1);
      return range.getBoundingClientRect();
    };
    return box(at).left < box(at + 1).left;
  })"""


# Each word of a name (a line may also break after a hyphen) against the width its cell gives
# the name, in the name's font.
_CUT_WORDS = """(names = ".theme-table tbody th [dir=auto]") => {
  const pen = document.createElement("canvas").getContext("2d");
  return [...document.querySelectorAll(names)].flatMap(name => {
    pen.font = getComputedStyle(name).font;
    const room = name.getBoundingClientRect().width;
    return name.textContent.split(/\\s+|(?<=-)/)
      .filter(word => pen.measureText(word).width > room + 1);
  });
}"""


@pytest.mark.parametrize("language", ["el", "ar"])
def test_the_home_pages_themes_are_not_cut_mid_word_on_a_phone(
    new_page: Any, language: str
) -> None:
    """The table of open listings by theme squeezed the theme's name to a few letters a line
    ("Κατάρτι/ση", "الاحتضا/ن"), since a name may break anywhere: now only between words."""
    visitor = new_page(width=PHONE, locale=language)
    assert _overflow(visitor, "/") <= 1
    assert visitor.locator(".theme-table tbody th").count() > 0
    assert visitor.evaluate(_CUT_WORDS) == []


@pytest.mark.parametrize("width", [PHONE, 1280])
def test_the_forms_under_a_proposals_explanation_stand_apart_from_it(
    new_page: Any, width: int
) -> None:
    """The coordinator's decision forms (and a party's answer) began right at the table's
    bottom edge, as if they were its last row."""
    coordinator = new_page(width=width)
    sign_in(coordinator, "coordinator@example.org")
    coordinator.goto("/proposals/1")
    gap = coordinator.evaluate(
        """() => document.querySelector("[aria-labelledby=decide]").getBoundingClientRect().top
                 - document.querySelector(".explanation").getBoundingClientRect().bottom"""
    )
    assert gap >= 16


_CHART = """() => [...document.querySelectorAll(".chart-row")].map(row => {
  const box = part => row.querySelector(part).getBoundingClientRect();
  const [label, bar, value] = [box(".chart-label"), box(".chart-bar"), box(".chart-value")];
  return {label: [label.left, label.right, label.height], bar: [bar.left, bar.right],
          value: [value.left, value.right]};
})"""


@pytest.mark.parametrize("language", ["el", "ar"])
def test_the_dashboards_charts_read_on_a_phone(new_page: Any, language: str) -> None:
    """Each chart was one SVG scaled to the screen: on a phone its labels and numbers were a few
    pixels high and its bars a third of the width. Now the text keeps the page's size, the
    longest bar takes most of the line, and right to left the bars grow from the right edge
    with their numbers past their ends."""
    coordinator = new_page(width=PHONE, locale=language)
    sign_in(coordinator, "coordinator@example.org")
    assert _overflow(coordinator, "/coordination/dashboard") <= 1
    rows = coordinator.evaluate(_CHART)
    assert len(rows) > 10
    assert min(row["label"][2] for row in rows) >= 16
    assert max(row["bar"][1] - row["bar"][0] for row in rows) >= 0.6 * PHONE
    for row in rows:
        if language == "ar":
            assert abs(row["bar"][1] - row["label"][1]) <= 1 and row["value"][1] <= row["bar"][0]
        else:
            assert abs(row["bar"][0] - row["label"][0]) <= 1 and row["value"][0] >= row["bar"][1]


_SMALL_CONTROLS = """() => [...document.querySelectorAll(
    ".site-header a, .site-header button, .site-header select, .site-header summary")]
  .map(control => [control.textContent.trim(), control.getBoundingClientRect().height])
  .filter(([_name, height]) => height > 0 && height < 43.5)"""


def test_the_headers_controls_are_a_fingers_height_on_a_phone(new_page: Any) -> None:
    """The open menu's links stood 19 px high a quarter-line apart, the menu's toggle 30 px and
    the language switcher 26 px: hard to hit with a finger."""
    coordinator = new_page(width=PHONE)
    sign_in(coordinator, "coordinator@example.org")
    coordinator.locator(".site-menu > summary").click()
    assert coordinator.evaluate(_SMALL_CONTROLS) == []
    visitor = new_page(width=PHONE)
    visitor.goto("/login")
    visitor.locator(".site-menu > summary").click()
    assert visitor.evaluate(_SMALL_CONTROLS) == []
    remember = visitor.locator("main label.checkbox").bounding_box()
    assert remember["height"] >= 43.5  # the row was 24 px, its box 13
    assert visitor.locator("main input[name=email]").bounding_box()["height"] >= 43.5  # was 42
    # The home page's counts by theme, each a link to its listings, were 10 px wide and 19 high.
    visitor.goto("/")
    counts = visitor.locator(".theme-table td a").all()
    assert counts and min(count.bounding_box()["height"] for count in counts) >= 43.5


def test_on_a_touch_tablet_the_headers_controls_are_a_fingers_height(
    browser: Any, live_server: str
) -> None:
    """768 px wide the menu is open in a row, and a touch screen (pointer: coarse) taps it."""
    tablet = browser.new_context(
        base_url=live_server, viewport={"width": 768, "height": 1024}, has_touch=True
    )
    try:
        page = tablet.new_page()
        sign_in(page, "coordinator@example.org")
        assert page.evaluate(_SMALL_CONTROLS) == []
        assert _overflow(page, "/coordination/dashboard") <= 1
    finally:
        tablet.close()


def test_in_arabic_a_partnerships_latin_names_stay_whole(new_page: Any) -> None:
    """Right to left, a proposal's title ran its Latin names together across lines ("Tanger-
    Tetouan- / Tangier + Al Hoceima"): each name is now one box. And an email address is typed
    left to right."""
    coordinator = new_page(width=PHONE, locale="ar")
    sign_in(coordinator, "coordinator@example.org")
    assert _overflow(coordinator, "/coordination/proposals") <= 1
    boxes = coordinator.evaluate(
        """() => [...document.querySelectorAll(".card-title a [dir=auto]")]
                   .map(name => name.getClientRects().length)"""
    )
    assert len(boxes) > 10 and set(boxes) == {1}, boxes
    visitor = new_page(width=PHONE, locale="ar")
    visitor.goto("/login")
    direction = "field => getComputedStyle(field).direction"
    assert visitor.locator("main input[type=email]").evaluate(direction) == "ltr"


def test_a_listings_title_in_a_table_is_not_cut_mid_word_on_a_phone(new_page: Any) -> None:
    """Right to left, the table of an organisation's listings squeezed a Latin title to a few
    letters a line ("Informati / on and"), since what people write may break anywhere."""
    owner = new_page(width=PHONE, locale="ar")
    sign_in(owner, "mohamed.ziad@example.org")
    assert _overflow(owner, "/my/organisations") <= 1
    assert owner.locator(".table td [dir=auto]").count() > 0
    assert owner.evaluate(_CUT_WORDS, ".table td [dir=auto]") == []
    # Nor does the table need to scroll sideways for it, its cells narrower on a phone.
    wrap = "wrap => wrap.scrollWidth - wrap.clientWidth"
    assert owner.locator(".table-wrap").first.evaluate(wrap) <= 1


def test_the_review_queues_filters_fold_on_a_phone(new_page: Any) -> None:
    """Six filters filled a phone's first screen before any proposal: folded now, unless one is
    set, and open on a wide screen."""
    phone = new_page(width=PHONE)
    sign_in(phone, "coordinator@example.org")
    phone.goto("/coordination/proposals")
    assert not phone.locator("main select[name=template]").is_visible()
    assert phone.locator(".cards .card").first.bounding_box()["y"] < 900
    phone.goto("/coordination/proposals?min_score=10")
    assert phone.locator("main select[name=template]").is_visible()
    wide = new_page(width=1280)
    sign_in(wide, "coordinator@example.org")
    wide.goto("/coordination/proposals")
    assert wide.locator("main select[name=template]").is_visible()
