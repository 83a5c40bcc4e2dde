"""The proposal page tells the explanation as a short story before its table of points: who,
why they fit, what each brings, from the stored rule ids and parameters, in the reader's
language."""

from __future__ import annotations

from flask import Flask
from flask_babel import force_locale

from matchmaker.matching.explanations import Party, Reader, render, story

READER = Reader(
    {
        "research-evaluation": "Research, evaluation and impact measurement",
        "knowledge-exchange": "Knowledge exchange between academia and practice",
    }
)
PAIR = [
    {
        "rule": "shared_themes",
        "points": 21,
        "params": {
            "listing": "need",
            "total": 2,
            "themes": ["research-evaluation", "knowledge-exchange"],
            "rare": [],
        },
    },
    {
        "rule": "proximity",
        "points": 10,
        "params": {"level": "region", "place": "Liverpool City Region"},
    },
    {
        "rule": "mutual",
        "points": 10,
        "params": {
            "giver": "University of Liverpool",
            "asker": "Social Enterprise Network",
            "themes": ["knowledge-exchange"],
        },
    },
]
PARTIES = [
    Party("Social Enterprise Network", "need", "Evaluation of our programmes"),
    Party("University of Liverpool", "offer", "Research and evaluation"),
]


def test_a_pair_is_told_as_who_why_and_what_each_brings(app: Flask) -> None:
    sentences = story(PAIR, PARTIES, READER)
    assert sentences == [
        "University of Liverpool can bring Social Enterprise Network what it is looking for: "
        "Research, evaluation and impact measurement and Knowledge exchange between academia "
        "and practice.",
        "They work in the same city-region, Liverpool City Region.",
        "University of Liverpool brings “Research and evaluation”. And it goes both ways: "
        "University of Liverpool also needs Knowledge exchange between academia and practice, "
        "which Social Enterprise Network offers.",
    ]


def test_a_multi_party_proposal_names_everyone_and_the_themes_of_every_link(app: Flask) -> None:
    links = {
        "rule": "shared_themes",
        "points": 14,
        "links": [
            {
                "asker": "A",
                "giver": "B",
                "params": {
                    "listing": "challenge",
                    "total": 2,
                    "themes": ["research-evaluation"],
                    "rare": [],
                },
            },
            {
                "asker": "A",
                "giver": "C",
                "params": {
                    "listing": "challenge",
                    "total": 2,
                    "themes": ["knowledge-exchange", "research-evaluation"],
                    "rare": [],
                },
            },
        ],
    }
    near = {
        "rule": "proximity",
        "points": 8,
        "links": [
            {
                "asker": "A",
                "giver": "B",
                "params": {"level": "near", "place": "Tangier", "other": "Tetouan", "km": 44},
            }
        ],
    }
    parties = [
        Party("City", "challenge", "A"),
        Party("Hub", "offer", "B"),
        Party("University", "offer", "C"),
    ]
    sentences = story([links, near], parties, READER)
    assert sentences[0] == (
        "City, Hub, and University could work together on Research, evaluation and impact "
        "measurement and Knowledge exchange between academia and practice."
    )
    assert sentences[1] == "They work close by: Tangier and Tetouan are 44 km apart."
    assert sentences[2] == "Hub brings “B”. University brings “C”."


def test_the_story_is_in_the_readers_language(app: Flask) -> None:
    with force_locale("fr"):
        sentences = story(PAIR, PARTIES, READER)
    assert sentences[1] == "Elles travaillent dans la même métropole, Liverpool City Region."


def test_an_explanation_written_before_parameters_still_says_who(app: Flask) -> None:
    old = [{"rule": "shared_themes", "points": 20, "reason": "Shares 2 themes."}]
    assert story(old, PARTIES, READER) == [
        "University of Liverpool answers what Social Enterprise Network is looking for.",
        "University of Liverpool brings “Research and evaluation”.",
    ]


def test_peers_are_told_as_peers_not_as_different_kinds(app: Flask) -> None:
    def kinds(pairing: str) -> list[dict[str, object]]:
        params = {"pairing": pairing, "asker_kind": "public_agency", "giver_kind": "public_agency"}
        return [{"rule": "complementary_kinds", "points": 4, "params": params}]

    cities = [Party("City of A", "need", "A"), Party("City of B", "offer", "B")]
    assert story(kinds("peers"), cities, READER)[1] == (
        "Being of the same kind, they are peers with the same concerns."
    )
    assert story(kinds("different_kinds"), cities, READER)[1] == (
        "Being of different kinds, they bring different things."
    )


def test_theme_names_in_explanations_are_in_the_readers_language(app: Flask) -> None:
    """Read from the database in the reader's language (the stored explanation holds slugs)."""
    with app.test_request_context(), force_locale("el"):
        reader = Reader()
        assert reader.themes(["research-evaluation", "social-innovation"]) == (
            "Έρευνα, αξιολόγηση και μέτρηση αντικτύπου και Κοινωνική καινοτομία"
        )


def test_lists_in_explanations_are_joined_as_the_readers_language_joins_them(app: Flask) -> None:
    """An Arabic sentence lists with its own conjunction, never a Latin comma between
    names kept in their own direction; a multi-party rule gives one sentence per link."""
    names = Reader({"a": "Social innovation", "b": "Research, evaluation"})
    with app.test_request_context(), force_locale("ar"):
        listed = names.themes(["a", "b"])
        assert listed == "\u2068Social innovation\u2069 و\u2068Research, evaluation\u2069"
        sentences = story(PAIR, PARTIES, READER)
        assert ", " not in sentences[0].split(":", 1)[1].replace("Research, evaluation", "")
    item = {
        "rule": "proximity",
        "points": 8,
        "links": [
            {"asker": "A", "giver": "B", "params": {"level": "city", "place": "Athens"}},
            {"asker": "A", "giver": "C", "params": {"level": "city", "place": "Athens"}},
        ],
    }
    with app.test_request_context():
        (line,) = render("pair", [item], READER)
    assert line.parts == ("A ↔ B: Same city: Athens.", "A ↔ C: Same city: Athens.")
    assert line.reason == " ".join(line.parts)
