"""The journeys people take, in Chromium against a real server. Journeys 1 to 3 follow one
newcomer and share what they create, so they run in this file's order."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.conftest import Outbox, SMTPSink

pytestmark = pytest.mark.browser

NEWCOMER = {
    "email": "nia.newcomer@example.org",
    "name": "Nia Newcomer",
    "password": "a-long-password",
}
ORGANISATION = "Merseyside Food Cooperative"
NEED = "Evaluation of our community kitchens"
state: dict[str, Any] = {}


@pytest.fixture
def sink_outbox(smtp_sink: SMTPSink) -> Outbox:
    return Outbox(smtp_sink)


def test_1_newcomer_signs_up_confirms_registers_and_posts_a_need(
    new_page: Any, sink_outbox: Outbox
) -> None:
    page = new_page()
    page.goto("/")
    page.get_by_role("link", name="Sign up your organisation").click()
    page.get_by_label("Email address").fill(NEWCOMER["email"])
    page.get_by_label("Your name").fill(NEWCOMER["name"])
    page.get_by_label("Password", exact=True).fill(NEWCOMER["password"])
    page.get_by_label("Repeat the password").fill(NEWCOMER["password"])
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Check your email").wait_for()

    [message] = sink_outbox.to(NEWCOMER["email"])
    page.goto(sink_outbox.link(message, "/confirm/"))
    page.get_by_text("your email address is confirmed").wait_for()
    # The link signed the newcomer in, on the page of their organisations (issue 14).
    assert page.url.endswith("/my/organisations")

    page.get_by_role("link", name="My organisations").click()
    page.get_by_role("link", name="Register an organisation").click()
    page.get_by_label("Name", exact=True).fill(ORGANISATION)
    page.get_by_label("Kind of organisation").select_option(label="SSE organisation")
    page.get_by_label("Description").fill(
        "A food cooperative that runs community kitchens across Merseyside."
    )
    page.get_by_label("City").fill("Liverpool")
    page.get_by_label("Region").fill("Liverpool City Region")
    page.get_by_label("Country").select_option(label="United Kingdom")
    page.get_by_label("Contact person").fill("Nia Newcomer")
    page.get_by_label("Position").fill("Coordinator")
    page.get_by_label("Email", exact=True).fill("nia.contact@example.org")
    page.get_by_role("button", name="Register").click()
    page.get_by_text("waits for a coordinator to verify it").wait_for()

    # A coordinator verifies it (journey 2 continues from here).
    coordinator = new_page()
    sign_in(coordinator, "coordinator@example.org")
    coordinator.get_by_role("link", name="Verification").click()
    card = coordinator.locator("li.card", has_text=ORGANISATION)
    card.get_by_role("button", name="Verify", exact=True).click()
    coordinator.get_by_text(f"{ORGANISATION} is verified").wait_for()

    page.get_by_role("link", name="My organisations").click()
    page.get_by_role("link", name="Post a need").click()
    page.get_by_label("Title").fill(NEED)
    page.get_by_label("Description").fill(
        "We need researchers to evaluate the social impact of our kitchens and share "
        "knowledge with practitioners."
    )
    page.get_by_label("Research, evaluation and impact measurement").check()
    page.get_by_label("Knowledge exchange between academia and practice").check()
    page.get_by_label("Where partners may be").select_option("regional")
    page.get_by_role("button", name="Publish").click()
    page.get_by_role("heading", name=NEED).wait_for()
    # The matcher ran before the listing's page: the poster learns at once what it found.
    page.get_by_text(
        re.compile(r"\d+ possible partners? found, waiting for a coordinator")
    ).wait_for()
    assert "University of Liverpool" not in page.locator("section.matching-status").inner_text()
    state["need_posted"] = True


def test_2_the_matcher_proposes_and_a_coordinator_approves(
    new_page: Any, sink_outbox: Outbox
) -> None:
    if "need_posted" not in state:
        pytest.skip("journey 1 did not finish")
    coordinator = new_page()
    sign_in(coordinator, "coordinator@example.org")
    coordinator.get_by_role("link", name="Review").click()
    card = (
        coordinator.locator("li.card", has_text=ORGANISATION)
        .filter(has_text="University of Liverpool")
        .first
    )
    card.get_by_role("link").first.click()
    coordinator.get_by_role("heading", name="Why the matcher proposes it").wait_for()
    assert coordinator.get_by_role("cell", name=re.compile(r"^Shared themes")).count() == 1
    coordinator.get_by_label("Note to the parties (optional)").fill("Talk about evaluation.")
    sink_outbox.sink.messages.clear()
    coordinator.get_by_role("button", name="Approve").click()
    coordinator.get_by_text("Approved: the parties are introduced.").wait_for()
    [mail] = sink_outbox.to(NEWCOMER["email"])
    state["proposal_url"] = sink_outbox.link(mail, "/proposals/")
    assert sink_outbox.to("alan.southern@example.org")


def test_3_both_parties_accept_and_see_each_others_contact_people(new_page: Any) -> None:
    if "proposal_url" not in state:
        pytest.skip("journey 2 did not finish")
    newcomer = new_page()
    sign_in(newcomer, NEWCOMER["email"], NEWCOMER["password"])
    newcomer.goto(state["proposal_url"])
    assert "alan.southern@example.org" not in newcomer.content()
    newcomer.get_by_label("When everyone accepts, the home page may show this partnership").check()
    newcomer.get_by_role("button", name="Accept").click()
    newcomer.get_by_text(f"You accepted on behalf of {ORGANISATION}").wait_for()
    assert "alan.southern@example.org" not in newcomer.content()

    alan = new_page()
    sign_in(alan, "alan.southern@example.org")
    alan.get_by_role("link", name="My proposals").click()
    alan.locator("li.card", has_text=ORGANISATION).get_by_role("link").first.click()
    # The story comes before the table of points.
    story = alan.locator("p.story").inner_text()
    assert ORGANISATION in story and "University of Liverpool" in story
    alan.get_by_label("When everyone accepts, the home page may show this partnership").check()
    alan.get_by_role("button", name="Accept").click()
    alan.get_by_text("Everyone accepted").wait_for()
    assert "nia.contact@example.org" in alan.content()
    newcomer.reload()
    assert "alan.southern@example.org" in newcomer.content()

    # Both agreed to show it: a visitor sees it on the home page, without contacts.
    visitor = new_page()
    visitor.goto("/")
    recent = visitor.locator(".partnership-cards li.card", has_text=ORGANISATION)
    recent.wait_for()
    assert "University of Liverpool" in recent.inner_text()
    assert "nia.contact@example.org" not in visitor.content()


def test_4_a_municipality_posts_a_challenge_and_sees_the_partnership(new_page: Any) -> None:
    officer = new_page()
    sign_in(officer, "athens@example.org")
    officer.get_by_role("link", name="My organisations").click()
    officer.get_by_role("link", name="Post a challenge").click()
    title = "Work integration for young people at risk of poverty"
    officer.get_by_label("Title").fill(title)
    officer.get_by_label("Description").fill(
        "The City of Athens seeks a university and social enterprises for work integration "
        "and social inclusion of young people at risk of poverty."
    )
    officer.get_by_label("Social and active inclusion of people at risk of poverty").check()
    officer.get_by_label("Work integration and employment").check()
    officer.get_by_label("Where partners may be").select_option("local")
    officer.get_by_label("Academic institution").check()
    officer.get_by_label("SSE organisation").check()
    officer.get_by_label("Deadline").fill((date.today() + timedelta(days=90)).isoformat())
    officer.get_by_role("button", name="Publish").click()
    officer.get_by_role("heading", name=title).wait_for()

    coordinator = new_page()
    sign_in(coordinator, "coordinator@example.org")
    coordinator.goto("/coordination/proposals?template=local_inclusion_partnership")
    coordinator.locator("li.card", has_text=title).get_by_role("link").first.click()
    coordinator.get_by_role("button", name="Approve").click()
    coordinator.get_by_text("Approved").wait_for()

    officer.get_by_role("link", name="My proposals").click()
    officer.get_by_role("heading", name=re.compile("Waiting for your answer")).wait_for()
    # The proposal's card (the challenge's own matching-status card carries its title too).
    card = officer.locator("li.card", has_text=title).filter(
        has_text="Technology University of Athens"
    )
    assert "local inclusion partnership (athens model)" in card.inner_text().lower()


def test_4b_an_interested_member_asks_to_be_introduced(new_page: Any) -> None:
    member = new_page()
    sign_in(member, "rosie.jolly@example.org")
    member.goto("/offers")
    card = member.locator("li.card", has_text="University of Liverpool").first
    card.get_by_role("link").first.click()
    member.get_by_role("link", name="I'm interested").click()
    member.get_by_label("Message to the coordinators").fill("We would like to meet your team.")
    member.get_by_role("button", name="Send the request").click()
    member.get_by_text("Your request is with the coordinators").wait_for()

    coordinator = new_page()
    sign_in(coordinator, "coordinator@example.org")
    coordinator.goto("/coordination/proposals?template=requested")
    card = coordinator.locator("li.card", has_text="Requested by Social Enterprise Network").first
    card.get_by_role("link").first.click()
    coordinator.get_by_text("We would like to meet your team.").wait_for()
    coordinator.get_by_role("button", name="Approve").click()
    coordinator.get_by_text("Approved: the parties are introduced.").wait_for()


def test_4c_a_saved_search_alerts_its_owner_of_a_new_listing(
    new_page: Any, sink_outbox: Outbox
) -> None:
    watcher = new_page()
    sign_in(watcher, "gabriel.amitsis@example.org")
    watcher.goto("/needs")
    watcher.get_by_label("Search", exact=True).fill("allotments")
    watcher.get_by_role("button", name="Filter").click()
    watcher.get_by_label("Name of the search").fill("Allotments in Attica")
    watcher.get_by_role("button", name="Save this search").click()
    watcher.get_by_text("Your search \u201cAllotments in Attica\u201d is saved").wait_for()

    poster = new_page()
    sign_in(poster, "athens.coop@example.org")
    poster.get_by_role("link", name="My organisations").click()
    poster.get_by_role("link", name="Post a need").first.click()
    title = "Community allotments for our members"
    poster.get_by_label("Title").fill(title)
    poster.get_by_label("Description").fill(
        "We need land and advice to grow food in community allotments with our members."
    )
    poster.get_by_label("Housing, food and psycho-social support").check()
    poster.get_by_label("Where partners may be").select_option("regional")
    sink_outbox.sink.messages.clear()
    poster.get_by_role("button", name="Publish").click()
    poster.get_by_role("heading", name=title).wait_for()

    [mail] = sink_outbox.to("gabriel.amitsis@example.org")
    assert "Allotments in Attica" in mail["Subject"]
    watcher.get_by_role("link", name=re.compile("^Notifications")).click()
    watcher.get_by_role("link", name=re.compile("Allotments in Attica")).click()
    watcher.get_by_role("heading", name=title).wait_for()
    watcher.get_by_role("link", name="Account").click()
    watcher.locator("section.saved-searches").get_by_role("button", name="Pause alerts").click()
    watcher.get_by_text("Alerts for \u201cAllotments in Attica\u201d are paused.").wait_for()


def test_4d_a_long_unbroken_word_wraps_on_a_phone(new_page: Any) -> None:
    poster = new_page(width=375)
    sign_in(poster, "ttah.coop@example.org")
    poster.goto("/my/organisations")
    poster.get_by_role("link", name="Post a need").first.click()
    word = "Weaving" + "x" * 100
    poster.get_by_label("Title").fill(word)
    poster.get_by_label("Description").fill("Looms for " + "y" * 400 + " and training.")
    poster.get_by_label("Training, technical and professional advice").check()
    poster.get_by_label("Where partners may be").select_option("regional")
    poster.get_by_role("button", name="Publish").click()
    poster.get_by_role("heading", name=word).wait_for()
    for path in (poster.url, "/needs"):
        poster.goto(path)
        width = poster.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width} px wide"


def test_4g_an_owner_uploads_a_logo_shown_wherever_the_organisation_is(
    new_page: Any, tmp_path: Path
) -> None:
    logo = tmp_path / "logo.jpg"
    Image.new("RGB", (600, 300), (31, 111, 74)).save(logo, format="JPEG")
    owner = new_page()
    sign_in(owner, "alan.southern@example.org")
    owner.goto("/organisations/1/edit")
    owner.locator("input[type=file][name=logo]").set_input_files(str(logo))
    owner.get_by_role("button", name="Upload the logo").click()
    owner.get_by_text("The new logo is saved.").wait_for()
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in (375, 1280):
        visitor = new_page(width=width)
        for name, path in (("organisation", "/organisations/1"), ("directory", "/organisations")):
            visitor.goto(path)
            image = visitor.locator('img.org-logo[src*="/organisations/1/logo.png"]').first
            image.wait_for()
            # The picture loaded (a broken image has no natural width).
            assert image.evaluate("img => img.complete && img.naturalWidth") == 256
            visitor.screenshot(path=str(SCREENSHOTS / f"logo-{name}-{width}.png"), full_page=True)
            overflow = visitor.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} @{width} is {overflow}px wider than the screen"


def test_4e_menu_and_filters_fold_on_a_phone_without_javascript(new_page: Any) -> None:
    phone = new_page(width=375, javascript=False)
    sign_in(phone, "coordinator@example.org")
    phone.goto("/needs")
    review = phone.get_by_role("link", name=re.compile("^Review"))
    theme = phone.get_by_label("Theme", exact=True)
    assert not review.is_visible() and not theme.is_visible()
    assert phone.get_by_label("Search", exact=True).is_visible()
    phone.get_by_text("Menu", exact=True).click()
    review.wait_for()
    phone.get_by_text("More filters").click()
    theme.wait_for()

    wide = new_page(width=1280, javascript=False)
    sign_in(wide, "coordinator@example.org")
    wide.goto("/needs")
    assert wide.get_by_role("link", name=re.compile("^Review")).is_visible()
    assert wide.get_by_label("Theme", exact=True).is_visible()
    # The coordinators' links are one labelled group, with what waits for them counted.
    group = wide.locator("li.nav-group", has_text="Coordination").inner_text()
    assert "Review" in group and "Dashboard" in group and "Users" not in group


def test_4f_an_agency_posts_a_funding_call_and_a_fitting_member_is_told(
    new_page: Any, sink_outbox: Outbox
) -> None:
    officer = new_page()
    sign_in(officer, "athens@example.org")
    officer.get_by_role("link", name="Announcements").click()
    officer.get_by_role("link", name="Post an announcement").click()
    title = "Funding for work-integration cooperatives"
    officer.get_by_label("Kind of announcement").select_option(label="Funding call")
    officer.get_by_label("Title").fill(title)
    officer.get_by_label("Text", exact=True).fill(
        "The City of Athens funds social cooperatives that hire people far from work."
    )
    officer.get_by_label("Work integration and employment").check()
    officer.get_by_label("For whom").select_option(label="Project developers")
    officer.get_by_label("End date").fill((date.today() + timedelta(days=30)).isoformat())
    officer.get_by_label("Web address").fill("https://www.cityofathens.gr/")
    sink_outbox.sink.messages.clear()
    officer.get_by_role("button", name="Publish").click()
    officer.get_by_text("Your announcement is published.").wait_for()
    officer.get_by_role("heading", name=title).wait_for()

    # The work-integration cooperative of Athens offers work integration: it is told.
    assert sink_outbox.to("athens.coop@example.org")
    member = new_page()
    sign_in(member, "athens.coop@example.org")
    member.get_by_role("link", name=re.compile("^Notifications")).click()
    member.get_by_role("link", name=re.compile(title)).click()
    member.get_by_role("heading", name=title).wait_for()
    member.get_by_text("Project developers").wait_for()
    assert member.get_by_role("button", name="Withdraw").count() == 0


def test_5_review_queue_and_dashboard_for_coordinators_only(new_page: Any) -> None:
    coordinator = new_page()
    sign_in(coordinator, "coordinator@example.org")
    coordinator.get_by_role("link", name="Review").click()
    coordinator.get_by_role("heading", name="Proposals to review").wait_for()
    coordinator.get_by_role("link", name="Dashboard").click()
    coordinator.get_by_role("heading", name="Open listings by theme").wait_for()
    assert coordinator.locator(".chart").count() >= 3

    member = new_page()
    sign_in(member, "rosie.jolly@example.org")
    assert member.get_by_role("link", name="Review").count() == 0
    response = member.goto("/coordination/proposals")
    assert response.status == 403
    member.get_by_role("heading", name="Not allowed").wait_for()
    assert member.goto("/coordination/dashboard").status == 403


def test_6_forms_show_errors_next_to_fields_and_keep_what_was_typed(new_page: Any) -> None:
    page = new_page()
    page.goto("/signup")
    page.get_by_label("Email address").fill("someone@example.org")
    page.get_by_label("Your name").fill("Some One")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat the password").fill("different")
    page.get_by_role("button", name="Sign up").click()
    password = page.get_by_label("Password", exact=True)
    described = password.get_attribute("aria-describedby") or ""
    error_id = next(part for part in described.split() if part.endswith("-error"))
    assert "between 10 and 200" in page.locator(f"#{error_id}").inner_text()
    assert password.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Email address").input_value() == "someone@example.org"
    assert page.get_by_label("Your name").input_value() == "Some One"


def test_a_visitor_switches_to_arabic_without_javascript(new_page: Any) -> None:
    page = new_page(width=375, javascript=False)
    page.goto("/needs")
    assert page.locator("html").get_attribute("dir") == "ltr"
    page.get_by_label("Language").select_option("ar")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_load_state()
    assert page.url.endswith("/needs")
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.get_by_text("تم تغيير اللغة.").wait_for()
    page.get_by_role("heading", name="الاحتياجات").wait_for()
    # The page mirrors: the brand sits at the right-hand edge, the navigation to its left.
    brand = page.locator(".brand").bounding_box()
    assert brand["x"] + brand["width"] > 375 - 40


def test_4h_a_visitor_pages_through_the_directory_with_the_pager(new_page: Any) -> None:
    """An old page number still opens; the pager's Previous leads to the first page, which has
    none; a mistyped page link says what went wrong."""
    visitor = new_page()
    visitor.goto("/organisations?page=2")
    pager = visitor.get_by_role("navigation", name="Pages")
    pager.get_by_role("link", name="Previous").click()
    visitor.wait_for_url(re.compile(r"/organisations$"))
    visitor.get_by_role("heading", name="Directory of organisations").wait_for()
    assert visitor.get_by_role("link", name="Previous").count() == 0
    answer = visitor.goto("/organisations?cursor=mistyped")
    assert answer.status == 400
    visitor.get_by_text("This page link is not one this list gave out").wait_for()
