"""Icons: a sprite of the few Lucide icons the pages use (static/vendor/lucide/icons.svg, built
by ``make vendor`` from the npm package lucide-static and committed; no CDN).

The icons of organisation kinds and themes are declared beside them (``KIND_ICONS``,
``THEME_ICONS``); ``PAGE_ICONS`` names the others templates use. Every icon is decorative
(``aria-hidden``): a word always says what it shows.
"""

from __future__ import annotations

from flask import Flask, url_for

SPRITE = "vendor/lucide/icons.svg"

PAGE_ICONS = (
    "building-2",  # organisations (home figures)
    "clipboard-list",  # open listings
    "handshake",  # partnerships agreed
)


def icon_href(name: str) -> str:
    """The address of icon ``name`` in the sprite (fingerprinted, so it may be kept a year)."""
    return f"{url_for('static', filename=SPRITE)}#{name}"


def init_app(app: Flask) -> None:
    app.jinja_env.globals["icon_href"] = icon_href
