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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matchmaker.extensions import db
from matchmaker.listings.models import Theme
from matchmaker.matching.rules import RULES
from matchmaker.matching.templates import TEMPLATES
from matchmaker.organisations.models import KIND_LABELS, OrganisationKind

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
        return dict(db.session.execute(sa.select(Theme.slug, Theme.name)).all())

    def theme(self, slug: str) -> str:
        return self._theme_names.get(slug, slug)

    def themes(self, slugs: Iterable[str], marked: Iterable[str] = ()) -> str:
        """Theme names, separated by commas; those in ``marked`` (rare ones) say so."""
        rare = set(marked)
        return ", ".join(
            _("%(theme)s (rare)", theme=self.theme(slug)) if slug in rare else self.theme(slug)
            for slug in slugs
        )

    def kind(self, value: str) -> str:
        try:
            return str(KIND_LABELS[OrganisationKind(value)])
        except ValueError:
            return value

    def words(self, words: Sequence[str]) -> str:
        return ", ".join(words)


@dataclass(frozen=True)
class Line:
    rule: str
    label: str
    points: int
    reason: str


def label(rule: str) -> str:
    if rule in RULES:
        return str(RULES[rule].label)
    if rule == ROLE_COVERAGE:
        return str(ROLE_COVERAGE_LABEL)
    return rule.replace("_", " ")


def reason(template: str, item: dict[str, Any], reader: Reader) -> str:
    """The sentence of one item of a stored explanation."""
    if "reason" in item:  # written before explanations were stored as parameters
        return str(item["reason"])
    if item["rule"] == ROLE_COVERAGE:
        return TEMPLATES[template].coverage_sentence(item["params"], reader)
    sentence = RULES[item["rule"]].sentence
    if "links" in item:
        return " ".join(
            f"{link['asker']} ↔ {link['giver']}: {sentence(link['params'], reader)}"
            for link in item["links"]
        )
    return sentence(item["params"], reader)


def render(
    template: str, explanation: list[dict[str, Any]], reader: Reader | None = None
) -> list[Line]:
    """A stored explanation as lines a person reads: the rule's label, its points, why."""
    reader = reader or Reader()
    return [
        Line(item["rule"], label(item["rule"]), item["points"], reason(template, item, reader))
        for item in explanation
    ]
