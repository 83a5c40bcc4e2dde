"""Walking an HTML list through its Previous and Next links, as a reader does."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from flask.testing import FlaskClient

LINK = re.compile(r'<a rel="(next|prev)" href="([^"]+)"')


def links(body: str) -> dict[str, str]:
    """The page's pager links by rel (``next``, ``prev``)."""
    return {rel: html.unescape(href) for rel, href in LINK.findall(body)}


def walk(
    client: FlaskClient,
    start: str,
    shown: Callable[[str], list[str]],
    rel: str = "next",
    between: Callable[[], None] | None = None,
) -> tuple[list[list[str]], str]:
    """The rows ``shown`` on each page from ``start`` on, following ``rel`` links to the end
    (``between`` runs before each following page is asked for), and the last page's address."""
    pages, address = [], start
    while True:
        answer = client.get(address)
        assert answer.status_code == 200, (address, answer.status_code)
        body = answer.get_data(as_text=True)
        pages.append(shown(body))
        following = links(body).get(rel)
        if following is None:
            return pages, address
        assert len(pages) < 100, "the pager goes round in circles"
        if between is not None:
            between()
        address = following


def walk_there_and_back(
    client: FlaskClient, start: str, shown: Callable[[str], list[str]]
) -> tuple[list[list[str]], str]:
    """:func:`walk` to the last page, then back through the Previous links, which must show
    the same pages in reverse; the pages and the last page's address."""
    pages, last = walk(client, start, shown)
    back, first = walk(client, last, shown, rel="prev")
    assert back == pages[::-1]
    assert "prev" not in links(client.get(first).get_data(as_text=True))
    return pages, last
