"""local_inclusion_partnership — the Athens model.

A public agency's challenge, an academic institution, and one or more SSE organisations whose
offers deliver on social inclusion, social innovation, incubation or work integration, within
the challenge's scope and covering the kinds of partner it seeks: the City of Athens, the
Technology University of Athens and social enterprises in a local Active Inclusion Partnership.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from matchmaker.core.i18n import gettext as _
from matchmaker.matching.rules import Params
from matchmaker.matching.scoring import score_links
from matchmaker.matching.settings import MatchSettings
from matchmaker.matching.snapshot import ListingView, Snapshot
from matchmaker.matching.templates.base import Candidate, Party, Template, links_in_reach

if TYPE_CHECKING:
    from matchmaker.matching.explanations import Reader

THEMES = frozenset(
    {"social-inclusion", "social-innovation", "incubation-entrepreneurship", "work-integration"}
)
COVERABLE_KINDS = frozenset({"academic_institution", "sse_organisation"})
MAX_DELIVERY_PARTNERS = 3
ACADEMIC_VARIANTS = 2


class LocalInclusionPartnership(Template):
    name = "local_inclusion_partnership"
    label = _l("Local inclusion partnership (Athens model)")
    description = _l(
        "A public agency's challenge, an academic institution, and SSE organisations whose "
        "offers deliver on inclusion, innovation, incubation or work integration."
    )
    roles = {
        "challenge_owner": _l("posted the challenge (public agency)"),
        "academic_partner": _l("designs and evaluates (academic institution)"),
        "delivery_partner": _l("delivers (SSE organisation)"),
    }

    def coverage_sentence(self, params: Params, reader: Reader) -> str:
        return _(
            "Every role of the Athens model is filled: the challenge, an academic institution "
            "and %(delivery)d SSE delivery partner(s), covering the kinds the challenge seeks "
            "(%(sought)s).",
            delivery=params["delivery"],
            sought=", ".join(reader.kind(k) for k in params["sought"]) or _("any kind"),
        )

    def _eligible_challenge(self, view: ListingView) -> bool:
        return (
            view.kind == "challenge"
            and view.org_kind == "public_agency"
            and bool(view.themes & THEMES)
            and view.sought <= COVERABLE_KINDS
        )

    def _delivers(self, challenge: ListingView, offer: ListingView) -> bool:
        return bool(challenge.themes & offer.themes & THEMES)

    def propose(
        self, snapshot: Snapshot, settings: MatchSettings, focus: int | None
    ) -> Iterable[Candidate]:
        focus_view = snapshot.listings.get(focus) if focus is not None else None
        if focus_view is None:
            challenges = [v for v in snapshot.listings.values() if self._eligible_challenge(v)]
        elif focus_view.kind == "challenge":
            challenges = [focus_view] if self._eligible_challenge(focus_view) else []
        elif not focus_view.asks and focus_view.org_kind in COVERABLE_KINDS:
            challenges = [
                v
                for v in snapshot.near(focus_view, focus_view.themes & THEMES, asks=True)
                if self._eligible_challenge(v)
            ]
        else:
            challenges = []
        for challenge in challenges:
            offers = [
                o
                for o in snapshot.near(challenge, challenge.themes & THEMES, asks=False)
                if self._delivers(challenge, o)
            ]

            def strength(offer: ListingView, c: ListingView = challenge) -> tuple[int, int]:
                return (score_links(snapshot, settings, [(c, offer)]), -offer.id)

            academics = [o for o in offers if o.org_kind == "academic_institution"]
            delivery = sorted(
                (o for o in offers if o.org_kind == "sse_organisation"), key=strength, reverse=True
            )
            # An incremental run proposes partnerships that include the listing it was run for.
            pinned: list[ListingView] = []
            if focus_view is not None and focus_view is not challenge:
                if focus_view.org_kind == "academic_institution":
                    academics = [focus_view]
                else:
                    pinned = [focus_view]
            best_academics = heapq.nlargest(ACADEMIC_VARIANTS, academics, key=strength)
            chosen = list(pinned)
            for offer in delivery:
                if len(chosen) == MAX_DELIVERY_PARTNERS:
                    break
                if all(offer.org_id != c.org_id for c in chosen):
                    chosen.append(offer)
            for academic in best_academics:
                parties = [Party(challenge, "challenge_owner"), Party(academic, "academic_partner")]
                parties += [Party(o, "delivery_partner") for o in chosen]
                candidate = self.build(snapshot, settings, parties)
                if candidate is not None:
                    yield candidate

    def build(
        self, snapshot: Snapshot, settings: MatchSettings, parties: Sequence[Party]
    ) -> Candidate | None:
        challenges = [p.listing for p in parties if p.role == "challenge_owner"]
        academics = [p.listing for p in parties if p.role == "academic_partner"]
        # In id order, as the parties are stored: a proposal rebuilt from them has the same links.
        delivery = sorted(
            (p.listing for p in parties if p.role == "delivery_partner"), key=lambda v: v.id
        )
        if len(challenges) != 1 or len(academics) != 1 or not delivery:
            return None
        challenge, academic = challenges[0], academics[0]
        if not self._eligible_challenge(challenge) or academic.org_kind != "academic_institution":
            return None
        partners = [academic, *delivery]
        if any(p.asks or not self._delivers(challenge, p) for p in partners):
            return None
        if any(p.org_kind != "sse_organisation" for p in delivery):
            return None
        orgs = [challenge.org_id, *(p.org_id for p in partners)]
        if len(set(orgs)) != len(orgs):
            return None
        kinds = {p.org_kind for p in partners}
        if not challenge.sought <= kinds:
            return None
        links = [(challenge, partner) for partner in partners]
        if not links_in_reach(links):
            return None
        coverage = {"delivery": len(delivery), "sought": sorted(challenge.sought)}
        score = score_links(snapshot, settings, links, coverage=coverage)
        ordered = (
            Party(challenge, "challenge_owner"),
            Party(academic, "academic_partner"),
            *(Party(p, "delivery_partner") for p in delivery),
        )
        return Candidate(self.name, ordered, score, tuple(links), coverage)
