"""The load benchmark's counting (bench/load_counts.py): what it calls lost, twice or stray."""

from __future__ import annotations

from bench.load_counts import Stored, compare


def _stored(**changes: object) -> Stored:
    values: dict[str, object] = {
        "listings": {1: "Need, edited", 2: "Offer"},
        "proposals": {10: "agreed", 11: "rejected", 12: "pending_review"},
        "answers": {(10, 5, "accept")},
        "mail": {"<outbox.1>": "sent", "<outbox.2>": "sent"},
    }
    return Stored(**(values | changes))  # type: ignore[arg-type]


OUTCOMES = [
    {"kind": "listing", "id": 1, "title": "Need"},
    {"kind": "listing", "id": 2, "title": "Offer"},
    {"kind": "listing", "id": 1, "title": "Need, edited"},  # the last title saved counts
    {"kind": "decision", "id": 10, "action": "approve"},
    {"kind": "decision conflict", "id": 10, "action": "reject"},
    {"kind": "decision", "id": 11, "action": "reject"},
    {"kind": "answer", "id": 10, "organisation": 5, "decision": "accept"},
]


def test_a_run_where_everything_is_stored_and_mailed_once_is_ok() -> None:
    counts = compare(OUTCOMES, _stored(), ["<outbox.2>", "<outbox.1>"])
    assert counts.ok, counts.problems
    assert (counts.listings, counts.decisions, counts.conflicts, counts.answers) == (2, 2, 1, 1)
    assert (counts.mail, counts.mail_delivered) == (2, 2)


def test_what_the_database_does_not_hold_is_lost() -> None:
    stored = _stored(
        listings={1: "Need"},  # the edit is missing and listing 2 is gone
        proposals={10: "pending_review", 11: "rejected"},
        answers=set(),
    )
    counts = compare(OUTCOMES, stored, ["<outbox.1>", "<outbox.2>"])
    assert (counts.listings_lost, counts.decisions_lost, counts.answers_lost) == (2, 1, 1)
    assert not counts.ok


def test_mail_not_received_or_received_twice_is_counted() -> None:
    received = ["<outbox.1>", "<outbox.1>", "<outbox.1>", "<other>"]
    counts = compare([], _stored(), received)
    assert counts.mail_undelivered == 1  # <outbox.2> marked sent but never received
    assert counts.mail_duplicates == 2
    assert counts.mail_strays == 1
    assert not counts.ok


def test_two_clients_told_they_decided_the_same_proposal_is_a_failure() -> None:
    twice = [
        {"kind": "decision", "id": 10, "action": "approve"},
        {"kind": "decision", "id": 10, "action": "approve"},
    ]
    counts = compare(twice, _stored(), ["<outbox.1>", "<outbox.2>"])
    assert counts.decided_twice == 1 and not counts.ok


def test_listings_left_waiting_for_the_matcher_fail_the_run() -> None:
    counts = compare([], _stored(waiting_matches=3), ["<outbox.1>", "<outbox.2>"])
    assert not counts.ok


def test_an_edit_whose_answer_never_came_may_or_may_not_be_stored() -> None:
    sent = [
        {"kind": "listing", "id": 1, "title": "Need"},
        {"kind": "listing sent", "id": 1, "title": "Need, edited"},  # the run ended meanwhile
    ]
    for title in ("Need", "Need, edited"):
        counts = compare(sent, _stored(listings={1: title}), ["<outbox.1>", "<outbox.2>"])
        assert counts.ok and counts.listings_unanswered == 1
    counts = compare(sent, _stored(listings={1: "Something else"}), ["<outbox.1>", "<outbox.2>"])
    assert counts.listings_lost == 1


def test_an_edit_answered_since_is_no_excuse_for_an_older_title() -> None:
    edits = [
        {"kind": "listing", "id": 1, "title": "Need"},
        {"kind": "listing sent", "id": 1, "title": "Need, edited"},
        {"kind": "listing", "id": 1, "title": "Need, edited"},
    ]
    counts = compare(edits, _stored(listings={1: "Need"}), ["<outbox.1>", "<outbox.2>"])
    assert counts.listings_lost == 1 and counts.listings_unanswered == 0
