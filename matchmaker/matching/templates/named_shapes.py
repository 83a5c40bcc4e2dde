"""Named partnership shapes from the seed cases, declared as data and assembled by one template.

A shape is an anchor (the need or challenge a public body posts) and slots: for each, the
kinds of organisation, the themes, whether it posts an offer or a need (the people a
programme serves post needs), and how many parties it takes. The assembler fills the slots in
order with the likeliest listings near the anchor (most shared themes, then nearest), each
organisation once, and proposes the partnership if every slot has its least and all the
parties are joined by needs and offers (assembly.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from flask_babel import lazy_gettext as _l

from matchmaker.core.i18n import format_list, semicolon
from matchmaker.core.i18n import gettext as _
from matchmaker.matching.rules import Params
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import ListingView, Snapshot, within_reach
from matchmaker.matching.templates.assembly import assemble, grow_around
from matchmaker.matching.templates.base import Candidate, Party, Template

if TYPE_CHECKING:
    from matchmaker.matching.explanations import Reader

# Per slot, how many listings near the anchor are tried.
TRIED_PER_SLOT = 8


@dataclass(frozen=True)
class Slot:
    role: str
    brings: Any  # what it brings, a sentence a coordinator reads (translated)
    kinds: frozenset[str]
    themes: frozenset[str]
    asks: bool = False
    least: int = 1
    most: int = 1

    def fits(self, view: ListingView) -> bool:
        return (
            view.asks == self.asks
            and view.org_kind in self.kinds
            and not self.themes.isdisjoint(view.themes)
        )


def slot(
    role: str, brings: Any, kinds: str, themes: str, *, asks: bool = False, most: int = 1
) -> Slot:
    return Slot(role, brings, frozenset(kinds.split()), frozenset(themes.split()), asks, 1, most)


@dataclass(frozen=True)
class Shape:
    name: str
    label: Any  # translated when read
    description: Any
    model: Any  # "São Paulo model", for the explanation (translated)
    anchor: Slot
    slots: tuple[Slot, ...]


SHAPES = (
    Shape(
        name="incubation_procurement",
        label=_l("Incubation and public purchasing (São Paulo model)"),
        description=_l(
            "A municipality's need or challenge, an incubator or NGO, SSE enterprises and a "
            "public buyer: incubation and market access through public purchasing."
        ),
        model=_l("São Paulo model"),
        anchor=slot(
            "municipality",
            _l("posted the need or challenge (public agency)"),
            "public_agency",
            "incubation-entrepreneurship market-access training-advice basic-needs",
            asks=True,
        ),
        slots=(
            slot(
                "incubator",
                _l("incubates and trains (incubator, NGO or university)"),
                "civil_society sse_organisation academic_institution",
                "incubation-entrepreneurship training-advice",
            ),
            slot(
                "sse_enterprise",
                _l("SSE enterprises that grow with incubation and public contracts"),
                "sse_organisation",
                "incubation-entrepreneurship market-access training-advice work-integration",
                asks=True,
                most=3,
            ),
            slot(
                "public_buyer",
                _l("buys from SSE enterprises (public agency)"),
                "public_agency",
                "market-access",
            ),
        ),
    ),
    Shape(
        name="territorial_platform",
        label=_l("Territorial SSE platform (Tanger-Tetouan-Al Hoceima model)"),
        description=_l(
            "A regional authority's need or challenge, support organisations, SSE project "
            "developers and policy bodies, around a regional SSE platform."
        ),
        model=_l("Tanger-Tetouan-Al Hoceima model"),
        anchor=slot(
            "regional_authority",
            _l("posted the need or challenge (public agency)"),
            "public_agency",
            "territorial-platforms",
            asks=True,
        ),
        slots=(
            slot(
                "support_organisation",
                _l("supports project developers (training, advice, information)"),
                "civil_society sse_organisation private_sector academic_institution",
                "training-advice information incubation-entrepreneurship",
                most=2,
            ),
            slot(
                "project_developer",
                _l("develops SSE projects"),
                "sse_organisation civil_society",
                "training-advice information incubation-entrepreneurship funding",
                asks=True,
                most=2,
            ),
            slot(
                "policy_body",
                _l("makes SSE policy (public agency or research body)"),
                "public_agency academic_institution",
                "policy-strategy information territorial-platforms",
            ),
        ),
    ),
)


class ShapeTemplate(Template):
    """The template of one :class:`Shape` (see :func:`template_of`)."""

    shape: ClassVar[Shape]

    def propose(
        self, snapshot: Snapshot, settings: MatchSettings, focus: int | None
    ) -> Iterable[Candidate]:
        anchor = self.shape.anchor
        focus_view = None if focus is None else snapshot.listings[focus]

        def grow(view: ListingView) -> Candidate | None:
            if focus_view is not None and not self._may_take(snapshot, view, focus_view):
                return None  # what grows around it would not hold the focus
            return self._grow(snapshot, settings, view)

        return grow_around(snapshot, focus, anchor.fits, lambda _focus: anchor.themes, grow)

    def _may_take(self, snapshot: Snapshot, anchor: ListingView, view: ListingView) -> bool:
        """Whether the partnership grown around ``anchor`` can hold ``view``: it is the anchor,
        or among the listings tried for a slot it fits (no other is ever taken). An incremental
        run grows only these of the hundreds of anchors near its focus in a dense city."""
        return view is anchor or any(
            wanted.fits(view)
            and view
            in snapshot.nearest(anchor, wanted.themes, asks=wanted.asks, limit=TRIED_PER_SLOT)
            for wanted in self.shape.slots
        )

    def _grow(
        self, snapshot: Snapshot, settings: MatchSettings, anchor: ListingView
    ) -> Candidate | None:
        parties = [Party(anchor, self.shape.anchor.role)]
        orgs = {anchor.org_id}
        for wanted in self.shape.slots:
            taken = 0
            tried = snapshot.nearest(anchor, wanted.themes, asks=wanted.asks, limit=TRIED_PER_SLOT)
            for view in tried:
                if taken == wanted.most:
                    break
                if view.org_id not in orgs and wanted.fits(view):
                    parties.append(Party(view, wanted.role))
                    orgs.add(view.org_id)
                    taken += 1
            if taken < wanted.least:
                return None
        return self.build(snapshot, settings, parties)

    def build(
        self, snapshot: Snapshot, settings: MatchSettings, parties: Sequence[Party]
    ) -> Candidate | None:
        if not parties or parties[0].role != self.shape.anchor.role:
            return None
        anchor = parties[0].listing
        if not self.shape.anchor.fits(anchor):
            return None
        by_role: dict[str, list[ListingView]] = {s.role: [] for s in self.shape.slots}
        for party in parties[1:]:
            if party.role not in by_role:
                return None
            by_role[party.role].append(party.listing)
        # Slot by slot, in the shape's order (the order propose() gives them).
        order = [p.role for p in parties[1:]]
        if order != sorted(order, key=[s.role for s in self.shape.slots].index):
            return None
        for wanted in self.shape.slots:
            views = by_role[wanted.role]
            if not wanted.least <= len(views) <= wanted.most:
                return None
            if not all(wanted.fits(v) and within_reach(anchor, v) for v in views):
                return None
        coverage = {
            "anchor": anchor.org_name,
            "slots": {s.role: [v.org_name for v in by_role[s.role]] for s in self.shape.slots},
        }
        return assemble(self.name, snapshot, settings, parties, coverage)

    def coverage_sentence(self, params: Params, reader: Reader) -> str:
        filled = semicolon().join(
            _(
                "%(role)s: %(names)s",
                role=str(wanted.brings),
                names=format_list(params["slots"].get(wanted.role, [])),
            )
            for wanted in self.shape.slots
        )
        return _(
            "Every role of the %(model)s is filled around %(anchor)s — %(filled)s.",
            model=str(self.shape.model),
            anchor=params["anchor"],
            filled=filled,
        )


def template_of(shape: Shape) -> ShapeTemplate:
    attributes = {
        "shape": shape,
        "name": shape.name,
        "label": shape.label,
        "description": shape.description,
        "roles": {shape.anchor.role: shape.anchor.brings} | {s.role: s.brings for s in shape.slots},
    }
    return type(f"ShapeTemplate[{shape.name}]", (ShapeTemplate,), attributes)()


NAMED_SHAPES = tuple(template_of(shape) for shape in SHAPES)
