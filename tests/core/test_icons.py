"""Icons of kinds and themes: vendored (no CDN), every one the pages name is in the sprite, and
each is decorative beside the word it stands for."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from matchmaker.core.icons import PAGE_ICONS, SPRITE
from matchmaker.listings.models import DEFAULT_THEME_ICON, THEME_ICONS
from matchmaker.organisations.models import KIND_ICONS, OrganisationKind
from tests.factories import make_listing, make_organisation

STATIC = Path(__file__).resolve().parents[2] / "matchmaker" / "static"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def sprite_symbols() -> set[str]:
    return set(re.findall(r'<symbol id="([a-z0-9-]+)"', (STATIC / SPRITE).read_text()))


def test_every_icon_the_app_names_is_in_the_vendored_sprite_with_its_licence() -> None:
    named = {*KIND_ICONS.values(), *THEME_ICONS.values(), DEFAULT_THEME_ICON, *PAGE_ICONS}
    in_templates = {
        name
        for path in TEMPLATES.rglob("*.html")
        for name in re.findall(r"icon\('([a-z0-9-]+)'", path.read_text())
    }
    assert in_templates <= set(PAGE_ICONS), "name the icon in core/icons.py PAGE_ICONS"
    assert named <= sprite_symbols(), "run make vendor to rebuild the sprite"
    assert "ISC" in (STATIC / SPRITE).parent.joinpath("LICENSE").read_text()


def test_kinds_and_themes_show_their_icons_hidden_from_screen_readers(
    client: FlaskClient,
) -> None:
    university = make_organisation(kind=OrganisationKind.ACADEMIC_INSTITUTION)
    listing = make_listing(organisation=university, themes=("research-evaluation", "funding"))
    page = client.get(f"/listings/{listing.id}").get_data(as_text=True)
    icons = re.findall(r'<svg class="icon"[^>]*><use href="([^"]+)"></use></svg>', page)
    used = {href.rsplit("#", 1)[1] for href in icons}
    assert {"graduation-cap", "microscope", "coins"} <= used
    assert all(href.startswith("/static/" + SPRITE + "?v=") for href in icons)
    assert page.count('<svg class="icon" aria-hidden="true"') == len(icons)
    # The words stay beside them.
    assert "Academic institution" in page


def test_the_sprite_is_served_from_the_app_itself(client: FlaskClient) -> None:
    with client.get("/static/" + SPRITE) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert "http" not in re.sub(r'xmlns="[^"]+"', "", response.get_data(as_text=True))
