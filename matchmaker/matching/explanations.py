"""Explanations, rendered when they are read.

A proposal stores its explanation as data: for each rule that fired, its id, its points and its
parameters (theme slugs, organisation names, words; see matching/rules.py). This module turns
that into sentences in the reader's language, with theme names instead of slugs:

- a pair rule: ``{"rule": "proximity", "points": 15, "params": {...}}``;
- a rule of a multi-party proposal, averaged over its links:
  ``{"rule": "proximity", "points": 9, "links": [{"asker": "…", "giver": "…", "params": {...}}]}``;
- the template's bonus: ``{"rule": "role_coverage", "points": 15, "params": {...}}``, whose
  sentence the template writes (``Template.coverage_sentence``).

Explanations written before rules had parameters hold their sentence in ``reason``; they are
shown as they are, and the next full run writes them again in this form.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from matchmaker.core.i18n import country_name, format_list, isolated
from matchmaker.core.i18n import gettext as _
from matchmaker.extensions import db
from matchmaker.listings.models import Theme, theme_label
from matchmaker.matching.rules import RULES
from matchmaker.matching.templates import TEMPLATES
from matchmaker.organisations.models import KIND_LABELS, OrganisationKind
from matchmaker.places.gazetteer import subdivision_name

ROLE_COVERAGE = "role_coverage"
ROLE_COVERAGE_LABEL = _l("Multi-party: every role filled")


class Reader:
    """What a sentence needs to read well: theme names, kinds of organisation, word lists.
    Theme names come from the database, once per reader, unless given."""

    def __init__(self, theme_names: dict[str, str] | None = None) -> None:
        if theme_names is not None:
            self._theme_names = theme_names

    @cached_property
    def _theme_names(self) -> dict[str, str]:
        return {
            slug: theme_label(slug, name)
            for slug, name in db.session.execute(sa.select(Theme.slug, Theme.name))
        }

    def theme(self, slug: str) -> str:
        return self._theme_names.get(slug, slug)

    def themes(self, slugs: Iterable[str], marked: Iterable[str] = ()) -> str:
        """Theme names as the reader's language lists them ("A, B and C": theme names hold
        commas of their own); those in ``marked`` (rare ones) say so."""
        rare = set(marked)
        return format_list(
            _("%(theme)s (rare)", theme=self.theme(slug)) if slug in rare else self.theme(slug)
            for slug in slugs
        )

    def kind(self, value: str) -> str:
        try:
            return str(KIND_LABELS[OrganisationKind(value)])
        except ValueError:
            return value

    def words(self, words: Sequence[str]) -> str:
        return format_list(words)


@dataclass(frozen=True)
class Line:
    rule: str
    label: str
    points: int
    reason: str
    # A multi-party rule's sentence for each link ("A ↔ B: …"), which the page lists one under
    # the other; ``reason`` is them all in one paragraph (the API, exports, the CLI).
    parts: tuple[str, ...] = ()


def label(rule: str) -> str:
    if rule in RULES:
        return str(RULES[rule].label)
    if rule == ROLE_COVERAGE:
        return str(ROLE_COVERAGE_LABEL)
    return rule.replace("_", " ")


def reason(template: str, item: dict[str, Any], reader: Reader) -> str:
    """The sentence of one item of a stored explanation."""
    return " ".join(reasons(template, item, reader))


def reasons(template: str, item: dict[str, Any], reader: Reader) -> list[str]:
    """The sentences of one item of a stored explanation: one, or one per link of a
    multi-party proposal."""
    if "reason" in item:  # written before explanations were stored as parameters
        return [str(item["reason"])]
    if item["rule"] == ROLE_COVERAGE:
        return [TEMPLATES[template].coverage_sentence(item["params"], reader)]
    sentence = RULES[item["rule"]].sentence
    if "links" in item:
        return [
            f"{isolated(link['asker'])} ↔ {isolated(link['giver'])}: "
            f"{sentence(link['params'], reader)}"
            for link in item["links"]
        ]
    return [sentence(item["params"], reader)]


def render(
    template: str, explanation: list[dict[str, Any]], reader: Reader | None = None
) -> list[Line]:
    """A stored explanation as lines a person reads: the rule's label, its points, why."""
    reader = reader or Reader()
    lines = []
    for item in explanation:
        parts = reasons(template, item, reader)
        lines.append(
            Line(
                item["rule"],
                label(item["rule"]),
                item["points"],
                " ".join(parts),
                tuple(parts) if len(parts) > 1 else (),
            )
        )
    return lines


# The story --------------------------------------------------------------------------------
# Before the table of points, the same explanation told in two or three sentences: who would
# work together and on what, why they fit, and what each brings. Built from the stored rule ids
# and parameters when the page is read, in the reader's language.


@dataclass(frozen=True)
class Party:
    """What the story needs of a party: its name, and the listing that brought it in."""

    name: str
    listing_kind: str  # "need", "offer" or "challenge"
    listing_title: str


def _params(item: dict[str, Any]) -> list[dict[str, Any]]:
    """An item's parameters: one set for a pair, one per link for a multi-party proposal."""
    if "params" in item:
        return [item["params"]]
    return [link["params"] for link in item.get("links", [])]


def _first(items: dict[str, dict[str, Any]], rule: str) -> dict[str, Any] | None:
    found = _params(items[rule]) if rule in items else []
    return found[0] if found else None


def _names(names: Sequence[str]) -> str:
    return format_list(names)


def _who(parties: Sequence[Party], themes: list[str], reader: Reader) -> str:
    askers = [p for p in parties if p.listing_kind != "offer"]
    givers = [p for p in parties if p.listing_kind == "offer"]
    if len(parties) == 2 and len(askers) == 1 and len(givers) == 1:
        if themes:
            return _(
                "%(giver)s can bring %(asker)s what it is looking for: %(themes)s.",
                giver=givers[0].name,
                asker=askers[0].name,
                themes=reader.themes(themes),
            )
        return _(
            "%(giver)s answers what %(asker)s is looking for.",
            giver=givers[0].name,
            asker=askers[0].name,
        )
    names = _names([p.name for p in parties])
    if themes:
        return _(
            "%(names)s could work together on %(themes)s.",
            names=names,
            themes=reader.themes(themes),
        )
    return _("%(names)s could work together.", names=names)


def _why(items: dict[str, dict[str, Any]]) -> str | None:
    place = _first(items, "proximity")
    if place is not None:
        level = place["level"]
        if level == "city":
            return _("They work in the same city, %(place)s.", place=place["place"])
        if level == "near":
            return _(
                "They work close by: %(place)s and %(other)s are %(km)d km apart.",
                place=place["place"],
                other=place["other"],
                km=place["km"],
            )
        if level == "region":
            return _("They work in the same city-region, %(place)s.", place=place["place"])
        if level == "subdivision":
            return _(
                "They work in the same region, %(place)s.", place=subdivision_name(place["place"])
            )
        return _("They work in the same country, %(place)s.", place=country_name(place["place"]))
    kinds = _first(items, "complementary_kinds")
    if kinds is not None:
        if kinds.get("pairing") == "peers":
            return _("Being of the same kind, they are peers with the same concerns.")
        return _("Being of different kinds, they bring different things.")
    return None


def _brings(
    parties: Sequence[Party], items: dict[str, dict[str, Any]], reader: Reader
) -> str | None:
    sentences = [
        _("%(name)s brings “%(title)s”.", name=p.name, title=p.listing_title)
        for p in parties
        if p.listing_kind == "offer"
    ][:3]
    back = _first(items, "mutual")
    if back is not None and back.get("themes"):
        sentences.append(
            _(
                "And it goes both ways: %(giver)s also needs %(themes)s, which %(asker)s offers.",
                giver=back["giver"],
                asker=back["asker"],
                themes=reader.themes(back["themes"]),
            )
        )
    return " ".join(sentences) or None


def story(
    explanation: list[dict[str, Any]],
    parties: Sequence[Party],
    reader: Reader | None = None,
) -> list[str]:
    """Two or three sentences that tell the explanation: who, why they fit, what each brings."""
    reader = reader or Reader()
    items = {item["rule"]: item for item in explanation if "rule" in item and "reason" not in item}
    themes: list[str] = []
    for params in _params(items["shared_themes"]) if "shared_themes" in items else []:
        themes += [slug for slug in params["themes"] if slug not in themes]
    sentences = [
        _who(parties, themes, reader),
        _why(items),
        _brings(parties, items, reader),
    ]
    return [sentence for sentence in sentences if sentence]
