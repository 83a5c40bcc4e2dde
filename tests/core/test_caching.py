"""Shared fragments and visitors' pages: built once, rebuilt when the data changes, never
another person's and never another language's."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from matchmaker.core.caching import (
    PERSONAL_PARTS,
    TOKEN_PLACEHOLDER,
    cut_page,
    data_generation,
    page_for_reader,
    shared_fragment,
)
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind, ListingStatus
from tests.core.pager import links
from tests.factories import make_listing, make_organisation, make_user
from tests.territories.helpers import make_territory

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _home_needs(page: str) -> str:
    """The number of open needs with the theme social inclusion, as the home page says it."""
    match = re.search(r"theme=social-inclusion\">(\d+)</a>", page)
    assert match, page
    return match.group(1)


def test_a_fragment_is_built_once_per_language_and_again_after_a_change(app: Flask) -> None:
    built: list[str] = []

    def build() -> str:
        built.append("x")
        return f"built {len(built)}"

    with app.test_request_context():
        assert shared_fragment("example", build) == "built 1"
        assert shared_fragment("example", build) == "built 1"
        with force_locale("fr"):
            assert shared_fragment("example", build) == "built 2"
        make_listing()  # commits a new listing: a new generation
        assert shared_fragment("example", build) == "built 3"
        assert shared_fragment("example", build, "page 2") == "built 4"


def test_a_session_that_wrote_and_did_not_commit_builds_its_own(app: Flask) -> None:
    listing = make_listing()
    with app.test_request_context():
        assert shared_fragment("example", lambda: "before") == "before"
        listing.title = "A new title for the listing"
        db.session.flush()
        assert shared_fragment("example", lambda: "during") == "during"
        db.session.rollback()
        assert shared_fragment("example", lambda: "after") == "before"


def test_shared_fragments_are_renewed_when_the_transaction_commits_not_at_a_savepoint(
    app: Flask,
) -> None:
    listing = make_listing()
    with app.test_request_context():
        first = data_generation()
        with db.session.begin_nested():
            listing.title = "A title written inside a savepoint"
        # Released, not committed: nobody else sees the new title yet, so a fragment built now
        # elsewhere would hold the old one.
        assert data_generation() == first
        db.session.commit()
        second = data_generation()
        assert second != first
        listing.title = "A title written before a savepoint that rolls back"
        db.session.flush()
        with pytest.raises(RuntimeError), db.session.begin_nested():
            raise RuntimeError("only what the savepoint did is undone")
        db.session.commit()
        assert data_generation() != second


def test_home_counts_follow_new_and_closed_listings(app: Flask) -> None:
    client = app.test_client()
    organisation = make_organisation()
    make_listing(organisation=organisation)
    assert _home_needs(client.get("/").get_data(as_text=True)) == "1"
    second = make_listing(organisation=organisation)
    assert _home_needs(client.get("/").get_data(as_text=True)) == "2"
    second.status = ListingStatus.CLOSED
    db.session.commit()
    assert _home_needs(client.get("/").get_data(as_text=True)) == "1"


def test_newest_challenges_on_the_home_page_follow_new_ones(app: Flask) -> None:
    client = app.test_client()
    assert "Water for every school" not in client.get("/").get_data(as_text=True)
    make_listing(kind=ListingKind.CHALLENGE, title="Water for every school")
    assert "Water for every school" in client.get("/").get_data(as_text=True)


def test_a_stored_page_matches_the_page_built_for_the_visitor(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    make_listing(title="Evaluation of cooperative kitchens")
    first, second = app.test_client(), app.test_client()
    built = first.get("/needs?q=kitchens")
    stored = second.get("/needs?q=kitchens")
    assert "Evaluation of cooperative kitchens" in stored.get_data(as_text=True)
    assert stored.get_data(as_text=True) == built.get_data(as_text=True)
    # Neither holds a token nor gives the visitor a session; each one's switcher works.
    assert TOKEN.search(stored.get_data(as_text=True)) is None
    for client, page in ((first, built), (second, stored)):
        assert "Set-Cookie" not in page.headers
        answer = client.get("/language", query_string={"language": "fr", "next": "/needs"})
        assert answer.status_code == 302
        assert 'lang="fr"' in client.get("/needs").get_data(as_text=True)


def test_a_visitor_is_given_no_cookie_on_any_public_page(app: Flask) -> None:
    """A visitor's pages hold no CSRF token, so they start no session: no cookie to set (and
    none to sign) on the pages every visitor sees alike."""
    app.config["WTF_CSRF_ENABLED"] = True
    listing = make_listing(kind=ListingKind.OFFER, title="Shared kitchen hours")
    territory = make_territory()
    paths = [
        "/",
        "/organisations",
        "/organisations?kind=sse_organisation&country=GR",
        "/needs?q=kitchen",
        "/offers?country=GR",
        "/challenges",
        f"/listings/{listing.id}",
        f"/organisations/{listing.organisation_id}",
        f"/t/{territory.slug}",
    ]
    client = app.test_client()
    for path in paths * 2:  # built, then stored
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert "Set-Cookie" not in answer.headers, path
        assert TOKEN.search(answer.get_data(as_text=True)) is None, path


def test_a_stored_page_gets_each_readers_token_and_parts_where_they_stood(app: Flask) -> None:
    """A page is cut once where the token and the reader's own parts stand; serving it gives the
    same page as putting each reader's own back into the text (the plain way)."""
    with app.test_request_context():
        from flask import g
        from flask_wtf.csrf import generate_csrf

        drawn_token = generate_csrf()
        parts = {name: str(render()) for name, render in PERSONAL_PARTS.items()}
        assert parts, "no personal part is declared"
        markers = "".join(f"<span>\x00{name}\x00</span>" for name in parts)
        body = f'<input name="csrf_token" value="{drawn_token}"><p>Needs · Ανάγκες</p>{markers}'
        page = cut_page(body, "text/html")

        g.pop("csrf_token", None)  # another reader: another token
        plain = body.replace(drawn_token, TOKEN_PLACEHOLDER).replace(
            TOKEN_PLACEHOLDER, generate_csrf()
        )
        for name, drawn in parts.items():
            plain = plain.replace(f"\x00{name}\x00", drawn)
        served = page_for_reader(page).decode()
        assert served == plain
        assert "\x00" not in served and "Ανάγκες" in served
        assert page_for_reader(cut_page("<p>No form</p>", "text/html")) == b"<p>No form</p>"
        # The ETag does not depend on whose token the page was drawn with.
        assert cut_page(body.replace(drawn_token, "other"), "text/html").etag != page.etag
        g.csrf_token = "other"
        assert cut_page(body.replace(drawn_token, "other"), "text/html").etag == page.etag


def test_visitors_pages_are_in_the_readers_language(app: Flask) -> None:
    english, french = app.test_client(), app.test_client()
    assert 'lang="en"' in english.get("/needs").get_data(as_text=True)
    page = french.get("/needs", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert 'lang="fr"' in page
    assert 'lang="en"' in english.get("/needs").get_data(as_text=True)


def test_a_signed_in_member_never_gets_a_visitors_page(client: FlaskClient, login: Any) -> None:
    assert "Sign out" not in client.get("/").get_data(as_text=True)
    login(make_user(display_name="Ada"))
    page = client.get("/")
    assert "Sign out" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_a_message_waiting_for_a_visitor_is_shown_once(app: Flask) -> None:
    client = app.test_client()
    client.get("/needs")
    client.get("/language", query_string={"language": "fr"})
    assert "La langue est modifiée." in client.get("/needs").get_data(as_text=True)
    assert "La langue est modifiée." not in client.get("/needs").get_data(as_text=True)


def test_visitors_pages_answer_304_to_a_browser_that_has_them(app: Flask) -> None:
    client = app.test_client()
    first = client.get("/organisations")
    assert first.headers["ETag"]
    assert "private" in first.headers["Cache-Control"]
    assert "no-cache" in first.headers["Cache-Control"]
    again = client.get("/organisations", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    make_organisation(name="Kitchen cooperative of Attica")
    changed = client.get("/organisations", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert "Kitchen cooperative of Attica" in changed.get_data(as_text=True)


def test_each_page_of_a_visitors_list_is_stored_under_its_own_cursor(app: Flask) -> None:
    """Pages reached by cursor are stored like any address: each its own rows, a bad cursor's
    400 never stored, and a new organisation shows on the stored pages at once."""
    app.config["PAGE_SIZE"] = 2
    for name in ("Co-op a", "Co-op c", "Co-op e", "Co-op g"):
        make_organisation(name=name)
    client = app.test_client()

    def names(address: str) -> list[str]:
        return re.findall(
            r'dir="auto">(Co-op [^<]*)</a>', client.get(address).get_data(as_text=True)
        )

    second = links(client.get("/organisations").get_data(as_text=True))["next"]
    assert names("/organisations") == ["Co-op a", "Co-op c"]
    assert names(second) == ["Co-op e", "Co-op g"]
    assert names(second) == ["Co-op e", "Co-op g"]  # stored
    for _ in range(2):
        assert client.get(second + "x").status_code == 400
    make_organisation(name="Co-op f")
    assert names(second) == ["Co-op e", "Co-op f"]


def _options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, page
    return re.findall(r'<option[^>]*value="([^"]*)"', select.group(1))


def test_filters_offer_the_countries_and_themes_that_occur(app: Flask) -> None:
    client = app.test_client()
    make_listing(
        organisation=make_organisation(country="GR"), themes=("social-inclusion", "funding")
    )
    make_organisation(country="MA")  # no listing yet
    needs = client.get("/needs").get_data(as_text=True)
    assert _options(needs, "country") == ["", "GR"]
    assert _options(needs, "theme") == ["", "funding", "social-inclusion"]
    directory = client.get("/organisations").get_data(as_text=True)
    assert _options(directory, "country") == ["", "GR", "MA"]
    # A link to a country or a theme nobody is in yet still works, showing what it asks for.
    empty = client.get("/needs?country=ZW&theme=market-access")
    assert empty.status_code == 200
    assert "ZW" in _options(empty.get_data(as_text=True), "country")
    assert "market-access" in _options(empty.get_data(as_text=True), "theme")
    assert client.get("/needs?country=XX").status_code == 400
    assert client.get("/needs?theme=no-such-theme").status_code == 400


def test_the_review_queue_shows_the_proposals_of_a_new_matcher_run(app: Flask) -> None:
    from matchmaker.accounts.models import Role
    from matchmaker.listings.models import Scope
    from matchmaker.matching.engine import run_full
    from matchmaker.organisations.models import OrganisationKind
    from tests.proposals.helpers import signed_in

    coordinator = signed_in(app, make_user(role=Role.COORDINATOR))
    make_listing(title="Kitchens for the neighbourhood", themes=("social-inclusion",))
    university = make_organisation(kind=OrganisationKind.ACADEMIC_INSTITUTION)
    make_listing(
        organisation=university,
        kind=ListingKind.OFFER,
        title="Research on community kitchens",
        themes=("social-inclusion",),
        scope=Scope.REGIONAL,
    )
    assert "Research on community kitchens" not in coordinator.get(
        "/coordination/proposals"
    ).get_data(as_text=True)
    run_full()  # writes its proposals in bulk, on the session's connection
    db.session.commit()
    queue = coordinator.get("/coordination/proposals").get_data(as_text=True)
    assert "Research on community kitchens" in queue


# Coordinators' pages: stored once for everyone of the same role and territories ----------------

COORDINATOR_PAGES = ("/coordination/proposals", "/coordination/dashboard")
BADGE = re.compile(
    r' <span class="count" aria-hidden="true">\d+</span>'
    r'<span class="visually-hidden">(\d+) unread</span>'
)


def _notify(user: Any, count: int) -> None:
    from matchmaker.notifications.models import Notification

    for number in range(count):
        db.session.add(
            Notification(user_id=user.id, kind="test", message=f"News {number}", url="/")
        )
    db.session.commit()


def _without_own_parts(page: str) -> str:
    return BADGE.sub("", TOKEN.sub('name="csrf_token" value=""', page))


def test_coordinators_share_a_stored_page_with_their_own_count_and_token(app: Flask) -> None:
    from matchmaker.accounts.models import Role
    from tests.proposals.helpers import signed_in

    ada, bob = make_user(role=Role.COORDINATOR), make_user(role=Role.COORDINATOR)
    _notify(ada, 2)
    first, second = signed_in(app, ada), signed_in(app, bob)
    for client in (first, second):
        assert "Welcome back" in client.get("/").get_data(as_text=True)  # shown once
    app.config["WTF_CSRF_ENABLED"] = True
    for path in COORDINATOR_PAGES:
        ada_page = first.get(path).get_data(as_text=True)
        bob_page = second.get(path).get_data(as_text=True)
        assert BADGE.findall(ada_page) == ["2"]
        assert BADGE.findall(bob_page) == []
        assert _without_own_parts(ada_page) == _without_own_parts(bob_page)
        assert TOKEN.findall(ada_page) != TOKEN.findall(bob_page)
    # Ada reads her notifications: her stored page says so at once.
    first.post("/notifications/read", data={"csrf_token": TOKEN.findall(ada_page)[0]})
    assert BADGE.findall(first.get(COORDINATOR_PAGES[0]).get_data(as_text=True)) == []
    # Each one's token is theirs: signing out with it works, with the other's it does not.
    bob_token = TOKEN.findall(bob_page)[0]
    assert first.post("/logout", data={"csrf_token": bob_token}).status_code == 400
    assert second.post("/logout", data={"csrf_token": bob_token}).status_code == 302
    assert second.get(COORDINATOR_PAGES[0]).status_code == 302  # to the sign-in page


def test_coordinators_stored_pages_follow_role_language_and_messages(app: Flask) -> None:
    from matchmaker.accounts.models import Role
    from tests.proposals.helpers import signed_in

    admin = signed_in(app, make_user(role=Role.ADMIN))
    coordinator = signed_in(app, make_user(role=Role.COORDINATOR))
    french = signed_in(app, make_user(role=Role.COORDINATOR, language="fr"))
    for client in (admin, coordinator, french):
        client.get("/")  # the welcome
    for path in COORDINATOR_PAGES:
        assert "Administration" in admin.get(path).get_data(as_text=True)
        page = coordinator.get(path).get_data(as_text=True)
        assert "Administration" not in page
        assert 'lang="en"' in page
        assert 'lang="fr"' in french.get(path).get_data(as_text=True)
    # A message waiting is shown on the next page, once, though the page is stored.
    coordinator.post("/language", data={"language": "es"})
    assert "El idioma ha cambiado." in coordinator.get(COORDINATOR_PAGES[0]).get_data(as_text=True)
    again = coordinator.get(COORDINATOR_PAGES[0]).get_data(as_text=True)
    assert 'lang="es"' in again
    assert "El idioma ha cambiado." not in again


# A signed-in user's account and unread count, kept by each process while no account changed ---


def test_a_coordinator_who_loses_the_role_loses_the_pages_at_once(app: Flask) -> None:
    from matchmaker.accounts.models import Role
    from tests.proposals.helpers import signed_in

    user = make_user(role=Role.COORDINATOR)
    coordinator, admin = signed_in(app, user), signed_in(app, make_user(role=Role.ADMIN))
    for _ in range(2):  # the second from the kept account and the stored page
        assert coordinator.get(COORDINATOR_PAGES[0]).status_code == 200
    answer = admin.post(f"/admin/users/{user.id}/role", data={f"u{user.id}-role": "member"})
    assert answer.status_code == 302
    for path in COORDINATOR_PAGES:
        assert coordinator.get(path).status_code == 403
    assert "Coordination" not in coordinator.get("/").get_data(as_text=True)


def test_signing_out_in_one_browser_ends_the_kept_sessions_of_the_others(app: Flask) -> None:
    from tests.proposals.helpers import signed_in

    user = make_user()
    laptop, phone = signed_in(app, user), signed_in(app, user)
    for _ in range(2):
        assert phone.get("/account").status_code == 200
    assert laptop.post("/logout").status_code == 302
    answer = phone.get("/account")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")


def test_a_change_to_the_kept_account_in_one_request_never_reaches_the_next(app: Flask) -> None:
    """Each request gets its own copy of the account the process keeps: a change a request makes
    and does not commit (a form that failed, an error) is gone on the next request, and what a
    request loads through the account (its memberships) is loaded afresh."""
    from flask_login import current_user

    from matchmaker.extensions import db
    from tests.proposals.helpers import signed_in

    user = make_user(display_name="Ada")
    client = signed_in(app, user)
    for _ in range(2):  # the second from the kept account
        assert client.get("/account").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None
    headers = {"Cookie": f"session={cookie.value}"}
    # A request of its own: its own app context (g, the database session), as in a server.
    with app.app_context(), app.test_request_context("/account", headers=headers):
        app.preprocess_request()
        first = current_user._get_current_object()
        assert first.display_name == "Ada" and first in db.session
        first.display_name = "Changed, never committed"
        assert first.memberships == []
    with app.app_context(), app.test_request_context("/account", headers=headers):
        app.preprocess_request()
        second = current_user._get_current_object()
        assert second is not first
        assert second.display_name == "Ada"
    assert "Changed, never committed" not in client.get("/account").get_data(as_text=True)


def test_a_new_notification_shows_in_the_menu_at_once(app: Flask) -> None:
    from tests.proposals.helpers import signed_in

    user = make_user()
    client = signed_in(app, user)
    client.get("/")  # the welcome
    assert BADGE.findall(client.get("/account").get_data(as_text=True)) == []
    _notify(user, 3)
    assert BADGE.findall(client.get("/account").get_data(as_text=True)) == ["3"]


def test_no_stored_page_carries_a_rate_limit_of_its_own(app: Flask) -> None:
    """The stored-page filter skips the rate-limit check for a stored page's GET
    (``is_stored_page_request``): a ``@limiter.limit`` on such a view, or on its blueprint,
    would silently never apply. Move the limit to a view that is not stored instead."""
    from flask_limiter.util import get_qualified_name

    from matchmaker.core.caching import STORED_PAGE_ATTR
    from matchmaker.extensions import limiter

    stored = {
        endpoint: view
        for endpoint, view in app.view_functions.items()
        if getattr(view, STORED_PAGE_ATTR, False)
    }
    assert {"core.home", "proposals.queue", "dashboard.index"} <= set(stored), sorted(stored)
    manager = limiter.limit_manager
    with app.test_request_context():
        limited = [
            endpoint
            for endpoint, view in stored.items()
            if manager.decorated_limits(get_qualified_name(view))
            or manager.blueprint_limits(app, endpoint.rpartition(".")[0])
        ]
    assert limited == []


# A stored coordinator page lends the kept account: no database session until one is needed ----


def test_a_stored_coordinator_page_is_served_without_opening_a_database_session(
    app: Flask, monkeypatch: Any
) -> None:
    from matchmaker.accounts.models import Role
    from matchmaker.core import lent_user
    from tests.proposals.helpers import signed_in

    client = signed_in(app, make_user(role=Role.COORDINATOR))
    client.get("/")  # the welcome
    opened: list[object] = []
    real_init = lent_user.LendingSession.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        opened.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(lent_user.LendingSession, "__init__", counting_init)
    for path in COORDINATOR_PAGES:
        assert client.get(path).status_code == 200  # built: it reads the database
        opened.clear()
        page = client.get(path).get_data(as_text=True)  # stored
        assert "Coordination" in page
        assert opened == []
    # Any other page (not stored for an audience) has the account in its session, as before.
    assert client.get("/account").status_code == 200
    assert len(opened) == 1


def _lending(client: FlaskClient, path: str) -> dict[str, str]:
    """The headers of ``client``'s next request of ``path``, once the page is stored and the
    process keeps the account (the first request builds both): its account will be lent."""
    for _ in range(2):
        assert client.get(path).status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None
    return {"Cookie": f"session={cookie.value}"}


def test_the_lent_account_is_attached_before_anything_changes_it(app: Flask) -> None:
    """On a stored page's request the account is the process's kept one, outside any session;
    ``acting_user()`` (and the request's first database session) gives a copy in the session,
    so a change made through it never reaches the kept one or the next request."""
    from flask_login import current_user

    from matchmaker.accounts.models import Role
    from matchmaker.core.auth import acting_user
    from matchmaker.core.lent_user import reading_user
    from tests.proposals.helpers import signed_in

    client = signed_in(app, make_user(role=Role.COORDINATOR, display_name="Ada"))
    headers = _lending(client, COORDINATOR_PAGES[1])
    with app.app_context(), app.test_request_context(COORDINATOR_PAGES[1], headers=headers):
        app.preprocess_request()
        lent = reading_user()
        assert lent.display_name == "Ada" and not db.session.registry.has()
        acting = acting_user()
        assert acting is not lent and acting in db.session
        assert current_user._get_current_object() is acting
        acting.display_name = "Changed, never committed"
        assert acting.memberships == []
        assert lent.display_name == "Ada"
    with app.app_context(), app.test_request_context(COORDINATOR_PAGES[1], headers=headers):
        app.preprocess_request()
        assert db.session.query(sa.literal(1)).scalar() == 1  # the first session takes it in
        assert current_user._get_current_object() in db.session
        assert current_user.display_name == "Ada"


def test_an_admin_s_stored_pages_follow_the_territory_of_their_organisation(app: Flask) -> None:
    """An admin with no language of their own reads the language of their organisation's
    territory: found through their memberships, which the lent account cannot follow, when the
    stored page is rebuilt after a change."""
    from matchmaker.accounts.models import Role
    from tests.proposals.helpers import signed_in
    from tests.territories.helpers import athens_organisation

    make_territory()  # Attica, in Greek
    admin = make_user(role=Role.ADMIN)
    organisation = athens_organisation(owner=admin)
    client = signed_in(app, admin)
    client.get("/")  # the welcome
    for path in COORDINATOR_PAGES:
        for _ in range(2):  # built, then stored
            answer = client.get(path)
            assert answer.status_code == 200
            assert '<html lang="el"' in answer.get_data(as_text=True)
    make_listing(organisation=organisation, title="A new need")  # every stored page is rebuilt
    for path in COORDINATOR_PAGES:
        answer = client.get(path)
        assert answer.status_code == 200
        assert '<html lang="el"' in answer.get_data(as_text=True)


def test_a_page_rendered_for_a_lent_account_can_follow_its_relationships(app: Flask) -> None:
    """An error page, say, drawn on a stored page's request before anything opened a database
    session: the template gets the account in the request's session."""
    from flask import render_template_string
    from flask_login import current_user

    from matchmaker.accounts.models import Role
    from tests.proposals.helpers import signed_in

    user = make_user(role=Role.COORDINATOR)
    make_organisation(owner=user, name="Ada's Cooperative")
    client = signed_in(app, user)
    headers = _lending(client, COORDINATOR_PAGES[0])
    with app.app_context(), app.test_request_context(COORDINATOR_PAGES[0], headers=headers):
        app.preprocess_request()
        assert not db.session.registry.has()  # lent
        names = "{% for m in current_user.memberships %}{{ m.organisation.name }}{% endfor %}"
        assert render_template_string(names) == "Ada&#39;s Cooperative"
        assert current_user._get_current_object() in db.session


def test_an_ended_login_never_becomes_the_request_s_user_when_the_account_is_attached(
    app: Flask,
) -> None:
    """A session cookie whose login was ended (signed out: its token no longer matches) names a
    kept account; the request falls back on another login (a remember-me cookie). The ended
    login's account must not be lent, nor attached as the request's user when a database session
    opens (here: the page is built), or a copied cookie would work again after its sign-out."""
    from matchmaker.accounts.models import Role
    from tests.proposals.helpers import PASSWORD, signed_in

    admin = make_user(role=Role.ADMIN)
    coordinator = make_user(role=Role.COORDINATOR)
    ended = signed_in(app, admin)
    ended.get("/")  # the welcome
    copied = ended.get_cookie("session")
    assert copied is not None
    assert ended.post("/logout").status_code == 302  # ends every copy of the login
    # Someone with the copied cookie and a remember-me cookie of their own.
    own = app.test_client()
    answer = own.post(
        "/login", data={"email": coordinator.email, "password": PASSWORD, "remember": "y"}
    )
    assert answer.status_code == 302
    remember = own.get_cookie("remember_token")
    assert remember is not None
    assert own.get("/account").status_code == 200  # the welcome; the process keeps the account
    stale = app.test_client()
    stale.set_cookie("session", copied.value)
    assert stale.get("/account").status_code == 302  # ended; the process keeps the new token
    stale.set_cookie("session", copied.value)
    stale.set_cookie("remember_token", remember.value)
    for path in COORDINATOR_PAGES:  # not stored yet: built, so the account is attached
        answer = stale.get(path)
        assert answer.status_code == 200
        assert "Administration" not in answer.get_data(as_text=True)  # the coordinator's


def test_the_lent_account_is_the_one_signed_in(app: Flask) -> None:
    """Attaching the lent account never changes who is signed in: after a sign-out in the
    request (Flask-Login's user replaced), a database session opening leaves it signed out."""
    from flask_login import current_user, logout_user

    from matchmaker.accounts.models import Role
    from matchmaker.core.auth import acting_user
    from tests.proposals.helpers import signed_in

    client = signed_in(app, make_user(role=Role.COORDINATOR))
    headers = _lending(client, COORDINATOR_PAGES[0])
    with app.app_context(), app.test_request_context(COORDINATOR_PAGES[0], headers=headers):
        app.preprocess_request()
        assert current_user.is_authenticated and not db.session.registry.has()  # lent
        logout_user()
        assert db.session.query(sa.literal(1)).scalar() == 1
        assert not current_user.is_authenticated
        assert not acting_user().is_authenticated
