"""The matcher reads an organisation's own name and description in the organisation's language,
whatever the languages of its listings and whichever of them a run reads first."""

from __future__ import annotations

from flask import Flask

from matchmaker.core.words import analyse
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind, Scope
from matchmaker.matching.snapshot import full_snapshot, neighbourhood_snapshot
from tests.factories import make_listing, make_organisation

DESCRIPTION = "A cooperative that trains cooks with kitchens across the city."


def test_an_organisation_writing_english_keeps_english_words_beside_its_arabic_listing(
    app: Flask,
) -> None:
    organisation = make_organisation(name="Tangier Kitchens", description=DESCRIPTION)
    listing = make_listing(
        organisation=organisation,
        title="معلومات وتكوين لتنمية تعاونيتنا",
        description="نبحث عن شريك يقدم التكوين والمواكبة لتعاونيتنا النسائية.",
        language="ar",
    )
    db.session.commit()
    words = full_snapshot().listings[listing.id].org_words
    # English stems ("kitchens" and "kitchen" meet), and none of English's stop words.
    assert {"kitchen", "cook", "train"} <= set(words)
    assert not {"that", "with", "across"} & set(words)
    assert words == analyse(f"Tangier Kitchens {DESCRIPTION}", "en")


def test_full_and_incremental_runs_read_an_organisation_alike_whatever_its_listings_languages(
    app: Flask,
) -> None:
    # The organisation's first listing, in Arabic, is local to another region: an incremental
    # run for the need reads only its national offer, in French.
    organisation = make_organisation(
        name="Centre de formation",
        description="Un centre qui forme les cuisiniers des coopératives de la région.",
        language="fr",
        city="Manchester",
        region="Greater Manchester",
    )
    make_listing(
        organisation=organisation,
        kind=ListingKind.NEED,
        title="دعم التعاونيات النسائية",
        description="نبحث عن شريك يقدم التكوين والمواكبة لتعاونيتنا النسائية.",
        language="ar",
        scope=Scope.LOCAL,
    )
    offer = make_listing(
        organisation=organisation,
        kind=ListingKind.OFFER,
        title="Formation des cuisiniers",
        description="Nous formons les cuisiniers des coopératives et des cantines solidaires.",
        language="fr",
        scope=Scope.NATIONAL,
    )
    need = make_listing(
        title="Training for our cooks",
        description="Our cooperative kitchen looks for training for its cooks.",
        scope=Scope.NATIONAL,
    )
    db.session.commit()
    full = full_snapshot()
    near = neighbourhood_snapshot(need)
    assert offer.id in near.listings and len(near.listings) < len(full.listings)
    expected = analyse(f"{organisation.name} {organisation.description}", "fr")
    assert full.listings[offer.id].org_words == near.listings[offer.id].org_words == expected
    assert "cuisini" in expected and "les" not in expected
