"""What each party brings to a partnership: its roles, read from one declared table.

A listing brings a role when its organisation is of one of the role's kinds (a university
brings knowledge whatever it posts), when an offer carries one of the role's themes, or when an
offer's text uses one of the role's words. A need or challenge calls for the roles of its
themes and words, except those its own organisation brings by its kind (a city's challenge on
policy does not call for another policy body). The consortium template grows a partnership until the
roles its anchor calls for are brought.


The table is ROLES below: one declaration per role (kinds, themes, words), read by both
functions; the words are plain words in the matcher's languages, stemmed when declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from matchmaker.core.words import SNOWBALL, analyse
from matchmaker.matching.snapshot import ListingView


@dataclass(frozen=True)
class Role:
    name: str
    brings: Any  # what a party in this role brings, as a coordinator reads it (translated)
    kinds: frozenset[str]
    themes: frozenset[str]
    words: frozenset[str] = field(default=frozenset())

    @classmethod
    def declare(cls, name: str, brings: Any, kinds: str, themes: str, words: str = "") -> Role:
        """A role from space-separated kinds, themes and plain words, stemmed here in every
        language the matcher analyses (a listing's words are stems in its own language), so
        that "researchers" in an offer meets "research" and "incubadora" meets "incubadoras"."""
        stems = frozenset(stem for language in SNOWBALL for stem in analyse(words, language))
        return cls(name, brings, frozenset(kinds.split()), frozenset(themes.split()), stems)


ROLES = (
    Role.declare(
        "knowledge",
        _l("research and knowledge"),
        "academic_institution",
        "research-evaluation knowledge-exchange",
        "research researchers evaluation study studies university academic "
        "recherche investigación pesquisa universidade université universidad",
    ),
    Role.declare(
        "finance",
        _l("funding"),
        "",
        "funding",
        "funding finance investment investors grant grants loan loans fund funds "
        "financement financiación financiamento",
    ),
    Role.declare(
        "market",
        _l("buyers and market access"),
        "",
        "market-access",
        "procurement purchasing purchases buyer buyers contracts achats compras marché mercado",
    ),
    Role.declare(
        "support",
        _l("incubation, training and advice"),
        "",
        "incubation-entrepreneurship training-advice information",
        "incubation incubator training advice mentoring coaching accompaniment "
        "incubateur formation accompagnement incubadora formação capacitación",
    ),
    Role.declare(
        "policy",
        _l("policy and public authority"),
        "public_agency",
        "policy-strategy territorial-platforms",
        "policy policies regulation legislation politique política",
    ),
    Role.declare(
        "delivery",
        _l("delivery on the ground"),
        "sse_organisation",
        "work-integration basic-needs local-wealth",
        "cooperative cooperatives services delivery coopérative cooperativa",
    ),
    Role.declare(
        "reach",
        _l("reach to the people concerned"),
        "civil_society",
        "social-inclusion participation",
        "community communities residents neighbourhood vulnerable migrants women youth "
        "communauté quartier comunidad comunidade",
    ),
)
ROLES_BY_NAME = {role.name: role for role in ROLES}


def brought(view: ListingView) -> frozenset[str]:
    """The roles a listing's party brings: by its organisation's kind and, for an offer, by
    its themes and words."""
    names = {role.name for role in ROLES if view.org_kind in role.kinds}
    if not view.asks:
        names.update(
            role.name
            for role in ROLES
            if not role.themes.isdisjoint(view.themes) or not role.words.isdisjoint(view.words)
        )
    return frozenset(names)


def called_for(anchor: ListingView) -> frozenset[str]:
    """The roles a need or challenge calls for (by its themes and words), except those its own
    organisation brings by its kind."""
    return frozenset(
        role.name
        for role in ROLES
        if anchor.org_kind not in role.kinds
        and (not role.themes.isdisjoint(anchor.themes) or not role.words.isdisjoint(anchor.words))
    )
