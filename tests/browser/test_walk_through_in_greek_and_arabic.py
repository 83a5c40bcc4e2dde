"""Issue 13: the README's walk through, entirely in Greek and entirely in Arabic (right to left),
with axe-core clean on every page it passes. A newcomer whose browser speaks the language signs
up, confirms, registers an organisation whose city is typed in its own script, a coordinator
verifies it, the newcomer posts a need written in the language, the matcher proposes a
local partner (found by the city as the gazetteer knows it), the coordinator approves, and both
parties accept and see each other's contact people. Every link, button and message is found by
its translation in the language's catalog, so an untranslated one fails the journey."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from babel.support import Translations

from tests.browser.conftest import ROOT, sign_in
from tests.browser.test_accessibility import _serious_violations
from tests.conftest import Outbox, SMTPSink

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Case:
    email: str
    name: str
    organisation: str
    description: str
    city: str
    region: str
    country: str
    need: str
    need_description: str
    themes: tuple[str, ...]
    contact_email: str
    # The demo organisations of the place the matcher may propose (best first), and their
    # members: which of them clears the minimum score moves with the word tools' versions
    # (PyStemmer, stop words) by a point or two, and the journey is not about which.
    partners: dict[str, str]


CASES = {
    "el": Case(
        email="eleni.walk@example.org",
        name="Ελένη Παπαδοπούλου",
        organisation="Κοινωνική Κουζίνα Κυψέλης",
        description="Κοινωνικός συνεταιρισμός που μαγειρεύει για ανθρώπους σε κίνδυνο φτώχειας.",
        city="Αθήνα",
        region="Αττική",
        country="GR",
        need="Αξιολόγηση της κοινωνικής μας κουζίνας",
        need_description=(
            "Χρειαζόμαστε ερευνητές για να αξιολογήσουν την κοινωνική επίδραση της κουζίνας "
            "μας και την ένταξη ανθρώπων σε κίνδυνο φτώχειας."
        ),
        themes=("research-evaluation", "social-inclusion"),
        contact_email="eleni.contact@example.org",
        partners={"Technology University of Athens": "gabriel.amitsis@example.org"},
    ),
    "ar": Case(
        email="fatima.walk@example.org",
        name="فاطمة العلوي",
        organisation="تعاونية الصناعة التقليدية بتطوان",
        description="تعاونية نسائية للصناعة التقليدية في تطوان تبيع منتجاتها في الأسواق المحلية.",
        city="تطوان",
        region="جهة طنجة تطوان الحسيمة",
        country="MA",
        need="تكوين في التسيير والتسويق لتعاونيتنا",
        need_description=(
            "نحتاج إلى تكوين ومواكبة في التسيير والتسويق، وإلى معلومات عن برامج دعم التعاونيات."
        ),
        themes=("training-advice", "information"),
        contact_email="fatima.contact@example.org",
        partners={
            "Tangier SSE support and advice centre (illustrative)": "ttah.centre@example.org",
            "Région Tanger-Tetouan-Al Hoceima": "mohamed.ziad@example.org",
        },
    ),
}


@cache
def catalog(language: str) -> Translations:
    return Translations.load(str(ROOT / "matchmaker" / "translations"), [language])


@pytest.mark.parametrize("language", ["el", "ar"])
def test_the_walk_through_in_the_readers_language(
    new_page: Any, smtp_sink: SMTPSink, language: str
) -> None:
    case, words = CASES[language], catalog(language)
    t = words.gettext
    outbox = Outbox(smtp_sink)
    problems: list[str] = []
    direction = "rtl" if language == "ar" else "ltr"

    def in_sentence(name: str) -> str:
        """A name as a sentence of the language holds it: in a right-to-left one, between
        Unicode's directional isolates (core/i18n.isolated), invisible to the reader."""
        return f"\u2068{name}\u2069" if direction == "rtl" else name

    def check(page: Any, step: str) -> None:
        """The page is in the language and its direction, and axe-core finds nothing serious."""
        assert page.locator("html").get_attribute("lang") == language, step
        assert page.locator("html").get_attribute("dir") == direction, step
        problems.extend(f"{language} {step}: {v}" for v in _serious_violations(page))

    # 1. Sign up, in the browser's language.
    newcomer = new_page(locale=language, bypass_csp=True)
    newcomer.goto("/")
    check(newcomer, "home")
    newcomer.get_by_role("link", name=t("Sign up your organisation")).click()
    check(newcomer, "sign-up form")
    newcomer.locator("main input[name=email]").fill(case.email)
    newcomer.locator("main input[name=display_name]").fill(case.name)
    newcomer.locator("main input[name=password]").fill("a-long-password")
    newcomer.locator("main input[name=confirm_password]").fill("a-long-password")
    newcomer.get_by_role("button", name=t("Sign up"), exact=True).click()
    newcomer.get_by_role("heading", name=t("Check your email")).wait_for()

    # 2. The confirmation link, from a message in the newcomer's language.
    [message] = outbox.to(case.email)
    newcomer.goto(outbox.link(message, "/confirm/"))
    newcomer.get_by_text(t("Thank you, your email address is confirmed.")).wait_for()

    # 3. Register an organisation, its city typed in its own script.
    newcomer.get_by_role("link", name=t("My organisations")).first.click()
    newcomer.get_by_role("link", name=t("Register an organisation")).click()
    check(newcomer, "organisation form")
    form = newcomer.locator("main form").filter(has=newcomer.locator("input[name=city]"))
    form.locator("input[name=name]").fill(case.organisation)
    form.locator("select[name=kind]").select_option("sse_organisation")
    form.locator("textarea[name=description]").fill(case.description)
    form.locator("input[name=city]").fill(case.city)
    form.locator("input[name=region]").fill(case.region)
    form.locator("select[name=country]").select_option(case.country)
    form.locator("input[name=contact_name]").fill(case.name)
    position = "Συντονίστρια" if language == "el" else "منسقة"
    form.locator("input[name=contact_position]").fill(position)
    form.locator("input[name=contact_email]").fill(case.contact_email)
    form.get_by_role("button", name=t("Register"), exact=True).click()
    newcomer.get_by_text(
        t(
            "This organisation waits for a coordinator to verify it. Until then it is not in "
            "the directory."
        )
    ).wait_for()
    check(newcomer, "organisation page")

    # 4. A coordinator, in the same language, verifies it.
    coordinator = new_page(locale=language, bypass_csp=True)
    sign_in(coordinator, "coordinator@example.org")
    coordinator.get_by_role("link", name=re.compile(re.escape(t("Verification")))).first.click()
    check(coordinator, "verification queue")
    card = coordinator.locator("li.card", has_text=case.organisation)
    card.get_by_role("button", name=t("Verify"), exact=True).click()
    coordinator.get_by_text(
        t("%(name)s is verified.") % {"name": in_sentence(case.organisation)}
    ).wait_for()

    # 5. The newcomer posts a need in the language; the matcher finds a partner at once.
    newcomer.get_by_role("link", name=t("My organisations")).first.click()
    newcomer.get_by_role("link", name=t("Post a need")).first.click()
    check(newcomer, "need form")
    form = newcomer.locator("main form").filter(has=newcomer.locator("input[name=title]"))
    form.locator("input[name=title]").fill(case.need)
    form.locator("textarea[name=description]").fill(case.need_description)
    for theme in case.themes:
        form.locator(f"input[name=themes][value={theme}]").check()
    form.locator("select[name=scope]").select_option("regional")
    form.locator("select[name=language]").select_option(language)
    form.get_by_role("button", name=t("Publish"), exact=True).click()
    newcomer.get_by_role("heading", name=case.need).wait_for()
    # Whichever plural form the count takes in the language (Arabic has six).
    forms = {
        words.ngettext(
            "%(num)d possible partner found, waiting for a coordinator.",
            "%(num)d possible partners found, waiting for a coordinator.",
            count,
        )
        for count in range(1, 12)
    }
    waiting = "|".join(re.escape(form).replace(re.escape("%(num)d"), r"\d+") for form in forms)
    newcomer.get_by_text(re.compile(waiting)).first.wait_for()
    check(newcomer, "listing page")
    # Found again on the needs page by another form of a word of its description.
    search_word = "κουζίνες" if language == "el" else "التعاونية"
    newcomer.goto(f"/needs?q={search_word}")
    newcomer.get_by_role("link", name=case.need).wait_for()
    check(newcomer, "needs searched")

    # 6. The coordinator reads why, and approves; the parties are told.
    coordinator.get_by_role("link", name=re.compile(re.escape(t("Review")))).first.click()
    check(coordinator, "review queue")
    cards = coordinator.locator("li.card", has_text=case.organisation)
    cards.first.wait_for()
    partner_name = next(name for name in case.partners if cards.filter(has_text=name).count())
    partner_email = case.partners[partner_name]
    proposal = cards.filter(has_text=partner_name).first
    proposal.get_by_role("link").first.click()
    coordinator.get_by_role("heading", name=t("Why the matcher proposes it")).wait_for()
    check(coordinator, "proposal")
    outbox.sink.messages.clear()
    coordinator.get_by_role("button", name=t("Approve"), exact=True).click()
    coordinator.get_by_text(t("Approved: the parties are introduced.")).wait_for()
    [mail] = outbox.to(case.email)
    proposal_url = outbox.link(mail, "/proposals/")

    # Both parties accept; then each sees the other's contact people.
    newcomer.goto(proposal_url)
    assert partner_email not in newcomer.content()
    newcomer.get_by_role("button", name=t("Accept"), exact=True).click()
    newcomer.get_by_text(
        t("You accepted on behalf of %(name)s.") % {"name": in_sentence(case.organisation)}
    ).wait_for()
    partner = new_page(locale=language, bypass_csp=True)
    sign_in(partner, partner_email)
    partner.goto(proposal_url)
    partner.get_by_role("button", name=t("Accept"), exact=True).click()
    partner.get_by_text(t("Everyone accepted. Contact details are shared below.")).wait_for()
    check(partner, "agreed proposal")
    assert case.contact_email in partner.content()
    newcomer.reload()
    assert partner_email in newcomer.content()
    assert problems == []
