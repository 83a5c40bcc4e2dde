"""Languages: how a request's language is chosen, the switcher, right-to-left Arabic, mail in
the recipient's language, and names and dates formatted for the reader."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from markupsafe import Markup

from matchmaker.accounts.models import EmailPreference, Role, User
from matchmaker.core.i18n import country_choices
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.notifications.models import Notification
from matchmaker.notifications.services import send_digests
from matchmaker.organisations.models import Membership, MembershipRole, OrganisationStatus
from tests.conftest import Outbox
from tests.factories import make_listing, make_organisation, make_user


def _subject(message: Any) -> str:
    # Python's email package folds a non-ASCII subject onto its own line; readers unfold it.
    return str(message["Subject"]).strip()


def _html_tag(client: FlaskClient, path: str = "/", **headers: str) -> str:
    page = client.get(path, headers=headers).get_data(as_text=True)
    match = re.search(r"<html[^>]*>", page)
    assert match is not None
    return match.group(0)


@pytest.mark.parametrize(
    "accept, lang, direction, words",
    [
        ("el-GR,el;q=0.9,en;q=0.5", "el", "ltr", "Ανάγκες"),
        ("ar-MA,ar;q=0.9,fr;q=0.8", "ar", "rtl", "الاحتياجات"),
        ("fr-FR,fr;q=0.9", "fr", "ltr", "Besoins"),
        ("es-ES", "es", "ltr", "Necesidades"),
        ("pt-BR,pt;q=0.9", "pt", "ltr", "Necessidades"),
        ("de-DE,de;q=0.9", "en", "ltr", "Needs"),
    ],
)
def test_the_browser_language_chooses_the_page_language(
    client: FlaskClient, accept: str, lang: str, direction: str, words: str
) -> None:
    page = client.get("/", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{direction}">' in page
    assert f">{words}</a>" in page


def test_a_visitor_switches_language_without_javascript(client: FlaskClient) -> None:
    page = client.get("/needs?sort=newest").get_data(as_text=True)
    # The switcher is a form: a select of the languages, each named in its own language.
    assert '<form method="get" action="/language" class="language-switcher">' in page
    assert '<input type="hidden" name="next" value="/needs?sort=newest">' in page
    assert '<option value="ar" lang="ar">العربية</option>' in page
    response = client.get(
        "/language", query_string={"language": "el", "next": "/needs?sort=newest"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/needs?sort=newest"
    page = client.get("/needs", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="el"' in page
    assert "Η γλώσσα άλλαξε." in page  # the confirmation, in the language just chosen
    assert '<option value="el" lang="el" selected>Ελληνικά</option>' in page
    # Kept by this browser, message shown once: the next page is in Greek without it.
    page = client.get("/offers", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="el"' in page
    assert "Η γλώσσα άλλαξε." not in page


def test_a_visitors_choice_is_a_display_cookie_and_nothing_else(client: FlaskClient) -> None:
    response = client.get("/language", query_string={"language": "fr"})
    cookies = response.headers.getlist("Set-Cookie")
    [language] = [c for c in cookies if c.startswith("language=")]
    assert "HttpOnly" in language
    assert "SameSite=Lax" in language
    assert "Max-Age=31536000" in language
    # A value the switcher does not offer never chooses a language.
    client.set_cookie("language", "xx")
    assert 'lang="en"' in _html_tag(client, "/", **{"Accept-Language": "en"})


def test_the_switcher_refuses_unknown_languages_and_outside_redirects(
    client: FlaskClient,
) -> None:
    assert client.post("/language", data={"language": "xx"}).status_code == 400
    response = client.post("/language", data={"language": "fr", "next": "https://evil.test/"})
    assert response.headers["Location"] == "/"
    assert client.get("/language", query_string={"language": "xx"}).status_code == 400
    assert client.get("/language").status_code == 400
    for outside in ("https://evil.test/", "//evil.test/", "/\\evil.test"):
        response = client.get("/language", query_string={"language": "fr", "next": outside})
        assert response.headers["Location"] == "/"


def test_a_link_to_the_visitors_switcher_changes_no_account(
    client: FlaskClient, login: Any
) -> None:
    user = make_user(language="pt")
    login(user)
    page = client.get("/").get_data(as_text=True)
    assert '<form method="post" action="/language" class="language-switcher">' in page
    client.get("/language", query_string={"language": "ar"})
    db.session.refresh(user)
    assert user.language == "pt"
    assert 'lang="pt"' in _html_tag(client, "/account")


def test_a_signed_in_user_language_is_kept_on_the_account(client: FlaskClient, login: Any) -> None:
    user = make_user()
    login(user)
    client.post("/language", data={"language": "ar", "next": "/account"})
    db.session.refresh(user)
    assert user.language == "ar"
    assert 'dir="rtl"' in _html_tag(client, "/account", **{"Accept-Language": "en"})
    # Another browser: the account's setting wins over that browser's Accept-Language.
    other = client.application.test_client()
    other.post("/login", data={"email": user.email, "password": "correct-horse-battery"})
    assert 'lang="ar"' in _html_tag(other, "/account", **{"Accept-Language": "fr"})
    # Back to "the language of your browser" on the account page.
    account = client.get("/account").get_data(as_text=True)
    assert '<option selected value="ar">العربية</option>' in account
    client.post("/language", data={"language": "", "next": "/account"})
    db.session.refresh(user)
    assert user.language is None
    assert 'lang="fr"' in _html_tag(client, "/account", **{"Accept-Language": "fr"})


def test_the_language_switch_needs_a_csrf_token(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert client.post("/language", data={"language": "fr"}).status_code == 400
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert token is not None
    response = client.post("/language", data={"language": "fr", "csrf_token": token.group(1)})
    assert response.status_code == 302


def test_signing_up_keeps_the_language_and_mails_in_it(client: FlaskClient, outbox: Outbox) -> None:
    response = client.post(
        "/signup",
        data={
            "email": "nova@example.org",
            "display_name": "Nova",
            "password": "a-long-enough-password",
            "confirm_password": "a-long-enough-password",
        },
        headers={"Accept-Language": "pt-BR"},
    )
    assert response.status_code == 200
    user = db.session.scalar(db.select(User).where(User.email == "nova@example.org"))
    assert user.language == "pt"
    [message] = outbox.to("nova@example.org")
    assert _subject(message) == "Confirme seu endereço de e-mail"
    assert 'lang="pt" dir="ltr"' in message.get_body(preferencelist=("html",)).get_content()


def test_mail_goes_out_in_the_recipient_language_not_the_sender_one(
    client: FlaskClient, login: Any, outbox: Outbox
) -> None:
    greek = make_user(email="owner-el@example.org", language="el")
    arabic = make_user(email="owner-ar@example.org", language="ar")
    organisation = make_organisation(owner=greek, status=OrganisationStatus.PENDING)
    organisation.memberships.append(Membership(user=arabic, role=MembershipRole.OWNER))
    db.session.commit()
    login(make_user(role=Role.COORDINATOR))
    response = client.post(
        f"/coordination/organisations/{organisation.id}/verify",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 302
    [to_greek] = outbox.to("owner-el@example.org")
    [to_arabic] = outbox.to("owner-ar@example.org")
    assert _subject(to_greek) == f"Ο οργανισμός «{organisation.name}» επαληθεύτηκε"
    assert _subject(to_arabic) == f"تم التحقق من «{organisation.name}»"
    assert 'dir="rtl"' in to_arabic.get_body(preferencelist=("html",)).get_content()


def test_password_reset_mail_is_in_the_account_language(
    client: FlaskClient, outbox: Outbox
) -> None:
    make_user(email="fr@example.org", language="fr")
    client.post(
        "/forgot-password", data={"email": "fr@example.org"}, headers={"Accept-Language": "en"}
    )
    [message] = outbox.to("fr@example.org")
    assert _subject(message) == "Réinitialisez votre mot de passe"
    assert "ouvrez ce lien" in Outbox.text(message)


def test_each_digest_is_written_in_its_reader_language(app: Flask, outbox: Outbox) -> None:
    readers = [make_user(email=f"{code}@example.org", language=code) for code in ("es", "ar", "en")]
    for reader in readers:
        reader.email_preference = EmailPreference.DAILY
        db.session.add(Notification(user_id=reader.id, kind="test", message="Hi", url="/"))
    db.session.commit()
    assert send_digests() == 3
    db.session.commit()  # mail leaves once the run that wrote it is saved
    assert _subject(outbox.to("es@example.org")[0]) == "Su resumen de SSE Matchmaker: 1 novedades"
    assert _subject(outbox.to("ar@example.org")[0]) == "ملخصك من SSE Matchmaker: 1 جديد"
    assert _subject(outbox.to("en@example.org")[0]) == "Your SSE Matchmaker digest: 1 new"


def test_country_names_are_sorted_for_the_reader(app: Flask) -> None:
    with app.test_request_context(), force_locale("fr"):
        names = [name for _code, name in country_choices()]
    # Accents do not send É to the end of the alphabet.
    assert names.index("Égypte") < names.index("Espagne") < names.index("Zambie")
    with app.test_request_context(), force_locale("el"):
        assert dict(country_choices())["GR"] == "Ελλάδα"


def test_dates_are_written_for_the_reader(client: FlaskClient) -> None:
    make_listing(kind=ListingKind.CHALLENGE, deadline=date(2031, 3, 14))
    page = client.get("/challenges", headers={"Accept-Language": "el"}).get_data(as_text=True)
    assert "14 Μαρ 2031" in page


def test_user_written_text_takes_its_own_direction(client: FlaskClient) -> None:
    organisation = make_organisation(name="تعاونية الأمل", city="طنجة", country="MA")
    listing = make_listing(organisation=organisation, title="تقييم برنامج الإدماج المهني")
    page = client.get(f"/listings/{listing.id}").get_data(as_text=True)
    assert '<h1 dir="auto">تقييم برنامج الإدماج المهني</h1>' in page
    assert 'dir="auto">تعاونية الأمل</a>' in page
    assert '<span dir="auto">طنجة</span>' in page


def test_numbers_are_written_for_the_reader(app: Flask) -> None:
    with app.test_request_context():
        for language, expected in (("en", "12,345.5"), ("fr", "12\u202f345,5"), ("el", "12.345,5")):
            with force_locale(language):
                assert render_template_string("{{ 12345.5|number }}") == expected
        assert render_template_string("{{ 'n/a'|number }}") == "n/a"


# A listing (a need, offer or challenge) and an announcement (a notice to a region or to
# everyone) are two sections of the site: each language names them with different words.
@pytest.mark.parametrize("language", ["en", "fr", "es", "pt", "el", "ar"])
def test_announcements_and_listings_have_different_names(app: Flask, language: str) -> None:
    with app.test_request_context(), force_locale(language):
        for announcement, listing in (("Announcements", "Listings"), ("Announcement", "Listing")):
            assert gettext(announcement).casefold() != gettext(listing).casefold(), announcement


def test_the_account_page_names_the_role_in_the_reader_language(
    client: FlaskClient, login: Any
) -> None:
    login(make_user(role=Role.COORDINATOR, language="es"))
    assert "<dd>Coordinador</dd>" in client.get("/account").get_data(as_text=True)


# In an Arabic sentence, a name written in Latin letters is kept in its own direction (Unicode's
# first-strong isolate … pop directional isolate, plain text's <bdi>): else its punctuation and
# the words after it are reordered around it.
FSI, PDI = "\u2068", "\u2069"


def test_a_latin_name_in_an_arabic_flash_keeps_its_own_direction(
    client: FlaskClient, login: Any
) -> None:
    login(make_user(display_name="Maria Santos", language="ar"))
    page = client.get("/").get_data(as_text=True)
    assert f"مرحبًا بعودتك، {FSI}Maria Santos{PDI}." in page


def test_left_to_right_readers_get_the_name_as_it_is(client: FlaskClient, login: Any) -> None:
    login(make_user(display_name="Maria Santos", language="en"))
    page = client.get("/").get_data(as_text=True)
    assert "Welcome back, Maria Santos." in page
    assert FSI not in page


def test_a_template_sentence_isolates_the_name_and_still_escapes_it(app: Flask) -> None:
    sentence = "{{ _('Logo of %(name)s', name=name) }}"
    with app.test_request_context():
        with force_locale("ar"):
            arabic = render_template_string(sentence, name="<b>Tanger & Co</b>")
            safe = render_template_string(sentence, name=Markup("<em>Tanger</em>"))
        with force_locale("fr"):
            french = render_template_string(sentence, name="Tanger & Co")
    assert f"{FSI}&lt;b&gt;Tanger &amp; Co&lt;/b&gt;{PDI}" in arabic
    assert f"{FSI}<em>Tanger</em>{PDI}" in safe
    assert FSI not in french and "Tanger &amp; Co" in french


def test_an_explanation_read_in_arabic_isolates_the_partners_names(app: Flask) -> None:
    from matchmaker.matching.explanations import Reader, reason

    item = {
        "rule": "shared_vocabulary",
        "params": {"asker": "Tanger Coop", "giver": "Université Abdelmalek Essaâdi", "words": []},
    }
    with app.test_request_context():
        with force_locale("ar"):
            arabic = reason("pair", item, Reader({}))
        with force_locale("en"):
            english = reason("pair", item, Reader({}))
    assert f"{FSI}Tanger Coop{PDI}" in arabic
    assert f"{FSI}Université Abdelmalek Essaâdi{PDI}" in arabic
    assert english.startswith("Tanger Coop and Université Abdelmalek Essaâdi write about")


def test_the_language_choice_gives_the_locale_it_names_made_once(app: Flask) -> None:
    """Flask-Babel takes the Locale select_locale gives as it is: the same as parsing the code
    it chose (the plain way), made once rather than on every request."""
    from babel import Locale

    from matchmaker.core.i18n import select_locale

    for header, code in (("fr", "fr"), ("el,en;q=0.5", "el"), ("xx", "en"), ("", "en")):
        with app.test_request_context("/", headers={"Accept-Language": header}):
            chosen = select_locale()
            assert chosen == Locale.parse(code)
        with app.test_request_context("/", headers={"Accept-Language": header}):
            assert select_locale() is chosen


def test_theme_names_are_in_the_readers_language_until_an_admin_renames_them(
    client: FlaskClient,
) -> None:
    from matchmaker.listings.models import Theme
    from matchmaker.listings.services import update_theme

    listing = make_listing(themes=("research-evaluation", "social-inclusion"))
    greek = client.get(f"/listings/{listing.id}", headers={"Accept-Language": "el"})
    page = greek.get_data(as_text=True)
    assert "Έρευνα, αξιολόγηση και μέτρηση αντικτύπου" in page
    assert "Research, evaluation and impact measurement" not in page
    filters = client.get("/needs", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "البحث والتقييم وقياس الأثر" in filters

    theme = db.session.scalar(sa.select(Theme).where(Theme.slug == "social-inclusion"))
    assert theme is not None
    update_theme(
        actor=make_user(role=Role.ADMIN),
        theme=theme,
        name="Inclusion of people in poverty",
        description=theme.description,
    )
    db.session.commit()
    page = client.get(f"/listings/{listing.id}", headers={"Accept-Language": "el"})
    assert "Inclusion of people in poverty" in page.get_data(as_text=True)
