"""The words the matcher compares, stored with each listing and kept up to date."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from matchmaker.core.words import analyse, stems
from matchmaker.extensions import db
from matchmaker.listings.models import Listing, Scope
from matchmaker.listings.services import update_listing
from matchmaker.matching.models import WordCount
from matchmaker.matching.snapshot import full_snapshot
from matchmaker.matching.text import listing_words, rebuild_word_counts
from tests.factories import make_listing


def _stored(listing: Listing) -> str | None:
    return db.session.scalar(sa.select(Listing.match_words).where(Listing.id == listing.id))


def test_saving_a_listing_stores_its_words_and_editing_updates_them(app: Flask) -> None:
    listing = make_listing(
        title="Evaluating cooperative kitchens",
        description="Researchers to evaluate our kitchens and their training programmes.",
    )
    assert _stored(listing) == (
        "cooper evalu kitchen programm research train\t"
        "cooperative evaluate kitchens programmes researchers training"
    )
    update_listing(
        listing=listing,
        actor=None,
        title="Housing cooperatives",
        description="Advice on community land trusts for housing cooperatives.",
        themes=["social-inclusion"],
        scope=Scope.REGIONAL,
    )
    db.session.commit()
    assert _stored(listing) == listing_words(listing.title, listing.description)
    assert "kitchen" not in (_stored(listing) or "") and "hous" in (_stored(listing) or "")


@pytest.mark.parametrize(
    "language, one, other",
    [
        ("en", "Public policy for community land", "Policies that communities own"),
        ("fr", "Les politiques publiques locales", "Une politique publique de coopératives"),
        ("es", "Cooperativas de trabajo asociado", "Una cooperativa de trabajadores"),
        ("pt", "Incubadoras de cooperativas populares", "A incubadora de cooperativa"),
        ("it", "Cooperative sociali di inserimento", "Una cooperativa per inserimenti"),
        ("el", "Κοινωνικές επιχειρήσεις της πόλης", "Η επιχείρηση ένταξης"),
        ("ar", "دعم التعاونيات النسائية", "مواكبة تعاونية فلاحية"),
    ],
)
def test_words_meet_across_their_forms_in_each_language(
    language: str, one: str, other: str
) -> None:
    first, second = analyse(one, language), analyse(other, language)
    assert set(first) & set(second), (first, second)


@pytest.mark.parametrize(
    "language, text",
    [
        ("en", "which would through their"),
        ("fr", "avec leurs notre cette"),
        ("es", "para nuestra también desde"),
        ("pt", "para nossa também desde"),
        ("it", "della nostra anche questo"),
        ("el", "αυτή είναι επίσης"),
        ("ar", "الذي هذه التي على"),
    ],
)
def test_each_language_drops_its_own_stop_words(language: str, text: str) -> None:
    assert analyse(text, language) == {}


def test_listings_in_other_languages_are_read_in_theirs(app: Flask) -> None:
    french = make_listing(
        title="Politiques publiques",
        description="Nous cherchons des partenaires pour évaluer nos politiques publiques.",
        language="fr",
    )
    assert stems(_stored(french) or "") == list(
        analyse(french.title + " " + french.description, "fr")
    )
    assert "polit" in stems(_stored(french) or "")


def test_the_matcher_finds_the_words_of_a_listing_stored_without_them(app: Flask) -> None:
    listing = make_listing(
        title="Evaluating cooperative kitchens",
        description="Researchers to evaluate our kitchens and their training programmes.",
    )
    with_words = full_snapshot().listings[listing.id].words
    db.session.execute(sa.update(Listing).values(match_words=None))
    assert full_snapshot().listings[listing.id].words == with_words


def test_reindex_fills_in_and_corrects_the_stored_words(app: Flask) -> None:
    stale, missing, right = (
        make_listing(title=f"Listing about {topic}", description=f"All about {topic} here.")
        for topic in ("kitchens", "housing", "gardens")
    )
    db.session.execute(sa.update(Listing).where(Listing.id == stale.id).values(match_words="old"))
    db.session.execute(sa.update(Listing).where(Listing.id == missing.id).values(match_words=None))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["match", "reindex"])
    assert result.exit_code == 0, result.output
    assert "2 of 3 listings had their words recomputed." in result.output
    for listing in (stale, missing, right):
        assert _stored(listing) == listing_words(listing.title, listing.description)


def test_reindex_makes_listings_written_outside_the_app_searchable(
    app: Flask, client: FlaskClient
) -> None:
    listing = make_listing(title="Συνεταιρισμοί τροφίμων", description="Κουζίνα.", language="el")
    db.session.execute(
        sa.update(Listing)
        .where(Listing.id == listing.id)
        .values(search_title=None, search_body=None)
    )
    db.session.commit()
    assert "Συνεταιρισμοί τροφίμων" not in client.get("/needs?q=συνεταιρισμός").text

    result = app.test_cli_runner().invoke(args=["match", "reindex"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 listings had their words recomputed." in result.output
    assert "Συνεταιρισμοί τροφίμων" in client.get("/needs?q=συνεταιρισμός").text


def test_word_counts_follow_listings_saved_edited_and_deleted(app: Flask) -> None:
    def counts() -> dict[str, int]:
        return {w.stem: w.listings for w in db.session.scalars(sa.select(WordCount))}

    first = make_listing(title="Cooperative kitchens", description="Kitchens for cooperatives.")
    second = make_listing(title="Cooperative bakery", description="A bakery run as a cooperative.")
    db.session.commit()
    assert counts()["cooper"] == 2 and counts()["kitchen"] == 1
    first.title, first.description = "Housing", "Homes for families of the neighbourhood."
    db.session.commit()
    assert counts()["cooper"] == 1 and counts()["kitchen"] == 0 and counts()["hous"] == 1
    db.session.delete(second)
    db.session.commit()
    assert counts()["cooper"] == 0
    kept = {stem: n for stem, n in counts().items() if n}
    rebuild_word_counts()
    db.session.commit()
    assert counts() == kept


def test_an_incremental_run_weighs_shared_vocabulary_as_a_full_run_does(app: Flask) -> None:
    from matchmaker.listings.models import ListingKind
    from matchmaker.matching.affinity import affinity
    from matchmaker.matching.snapshot import neighbourhood_snapshot
    from tests.factories import make_organisation

    # The university is in another region: an incremental run for the need sees its offer
    # (national scope) but none of its other listings, and few of the platform's listings.
    university = make_organisation(city="Manchester", region="Greater Manchester")
    make_listing(
        organisation=university,
        kind=ListingKind.NEED,
        title="Anchor institution procurement",
        description="Our estates team buys from cooperatives of the region.",
        scope=Scope.LOCAL,
    )
    offer = make_listing(
        organisation=university,
        kind=ListingKind.OFFER,
        title="Evaluation of community wealth building",
        description="Researchers evaluate procurement by anchor institutions.",
        scope=Scope.NATIONAL,
    )
    for number in range(4):
        make_listing(title=f"Community garden {number}", description="Allotments for families.")
    need = make_listing(
        title="Community wealth building",
        description="Anchor institutions should buy from local cooperatives.",
        scope=Scope.NATIONAL,
    )
    db.session.commit()
    full = full_snapshot()
    near = neighbourhood_snapshot(need)
    assert offer.id in near.listings and len(near.listings) < len(full.listings)
    in_full = affinity(full, need.organisation_id, university.id)
    assert 0 < in_full < 1
    assert affinity(near, need.organisation_id, university.id) == pytest.approx(in_full)


def test_whole_words_of_a_few_stems_are_those_of_the_whole_dictionary() -> None:
    # whole_words_of looks up only the stems an explanation shows; the plain way makes the
    # dictionary of every stem of the stored words. Stems that are there, one that is not, a
    # stored text without its whole words (written before they were kept), and none at all.
    from matchmaker.core.words import listing_words, stems, whole_words, whole_words_of

    stored = listing_words("Cooperative kitchens", "Trained cooks and housing cooperatives")
    for text in (stored, stored.partition("\t")[0], stored.partition("\t")[0] + "\t", ""):
        wanted = [*sorted(stems(text)), "zzz", *reversed(stems(text))]
        plain = whole_words(text)
        assert whole_words_of(text, wanted) == [plain.get(stem, stem) for stem in wanted]


def test_whole_words_keep_the_capitals_of_names_not_of_sentences() -> None:
    # Explanations show the whole words (not stems) as the text writes them: a name keeps its
    # capital ("Athens", "UNESCO"); a word that is only capitalised because it starts the title,
    # a line or a sentence (quoted or not) is shown in lower case; so is a word the text also
    # writes in lower case.
    text = (
        "Kitchens for cooperatives\n"
        "Cooperative kitchens in Athens and Piraeus. Training with UNESCO chairs and "
        "unesco-backed programmes. «Mentors» meet weekly. Ask SEKE or the Mayor's office."
    )
    words = analyse(text, "en")
    assert set(words.values()) == {
        "kitchens",  # the title's first word, and lower case after
        "cooperative",  # starts the description's line
        "Athens",
        "Piraeus",
        "training",  # starts a sentence
        "unesco",  # written in lower case once
        "chairs",
        "programmes",
        "mentors",  # starts a sentence, in quotes
        "meet",
        "weekly",
        "SEKE",
        "Mayor",
        "office",
    }
    # The stems are those of the text in lower case, as before.
    assert analyse(text.lower(), "en") == {stem: word.lower() for stem, word in words.items()}


def test_a_word_that_starts_a_list_item_keeps_no_capital() -> None:
    # A description's list writes each item from a capital, after a dash, a bullet or an
    # asterisk at the start of its line: that capital is the line's, not a name's. A dash inside
    # a line ("Franco-German") leaves a name its capital; so does a list item that names a place.
    text = (
        "Support for kitchens\n"
        "What we offer:\n"
        "- Training of cooks\n"
        "• Evaluation of menus\n"
        "* Mentoring in Athens\n"
        "– Housing advice\n"
        "A Franco-German exchange…  Gardening comes next."
    )
    words = analyse(text, "en")
    assert {"training", "evaluation", "mentoring", "housing", "gardening"} <= set(words.values())
    assert {"Athens", "Franco", "German"} <= set(words.values())
    assert analyse(text.lower(), "en") == {stem: word.lower() for stem, word in words.items()}


def test_a_word_after_a_greek_question_mark_keeps_no_capital() -> None:
    # Greek ends a question with ";" (or U+037E, which looks the same): the next word's capital
    # is the sentence's, as after "?". Elsewhere ";" ends no sentence: a name after it keeps
    # its capital.
    greek = analyse("Ψάχνετε κουζίνα; Εκπαίδευση για μάγειρες στην Αθήνα\u037e Μέντορες", "el")
    assert {"εκπαίδευση", "μέντορες", "Αθήνα"} <= set(greek.values())
    english = analyse("Cooks for kitchens; Athens and Piraeus host the training", "en")
    assert {"Athens", "Piraeus"} <= set(english.values())
