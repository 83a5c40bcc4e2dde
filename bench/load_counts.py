"""What the load benchmark compares once a phase is over (bench/load.py): what the clients saw
succeed against what the database holds, and the outbox against what the SMTP sink received.

Plain data in, counts out, so that tests/test_bench_load.py can check the counting alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# A decision the clients saw succeed is stored if the proposal is in one of these states: an
# approved proposal moves on to agreed or declined as the parties answer.
DECIDED = {
    "approve": {"approved", "agreed", "declined"},
    "reject": {"rejected"},
}


@dataclass
class Stored:
    """What the database holds after the phase."""

    listings: dict[int, str]  # listing id -> title
    proposals: dict[int, str]  # proposal id -> status
    answers: set[tuple[int, int, str]]  # (proposal, organisation, "accept" or "decline")
    mail: dict[str, str]  # Message-ID -> status, for the messages queued during the phase
    waiting_matches: int = 0  # "match this listing" jobs still queued
    mail_retried: int = 0  # messages delivered only at a later attempt


@dataclass
class Counts:
    listings: int = 0
    listings_lost: int = 0
    listings_unanswered: int = 0  # edits sent whose answer the client never got (not checked)
    decisions: int = 0
    decisions_lost: int = 0
    decided_twice: int = 0  # two clients were told they decided the same proposal
    conflicts: int = 0  # a decision refused because another one came first (expected)
    answers: int = 0
    answers_lost: int = 0
    answers_refused: int = 0  # the proposal took no more answers (expected)
    mail: int = 0
    mail_delivered: int = 0
    mail_undelivered: int = 0
    mail_duplicates: int = 0  # extra copies received of a message already received
    mail_strays: int = 0  # received, but queued by no row of this phase
    mail_retried: int = 0  # delivered only at a later attempt (the server was down)
    waiting_matches: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.listings_lost
            or self.decisions_lost
            or self.decided_twice
            or self.answers_lost
            or self.mail_undelivered
            or self.mail_duplicates
            or self.mail_strays
            or self.waiting_matches
        )


def compare(outcomes: list[dict[str, Any]], stored: Stored, received: list[str]) -> Counts:
    """``outcomes`` as the clients recorded them, in order; ``received``: the Message-ID of
    every message the sink took, once per copy."""
    counts = Counts(waiting_matches=stored.waiting_matches, mail_retried=stored.mail_retried)
    titles: dict[int, str] = {}  # each listing's last title a client saw saved
    # Titles sent since then whose answer the client never got (it was stopped at the end of
    # the run while its request was on the way): the database may hold one of them instead.
    unanswered: dict[int, set[str]] = {}
    deciders: Counter[int] = Counter()
    for outcome in outcomes:
        kind = outcome["kind"]
        if kind == "listing":
            titles[outcome["id"]] = outcome["title"]
            unanswered.pop(outcome["id"], None)
        elif kind == "listing sent":
            unanswered.setdefault(outcome["id"], set()).add(outcome["title"])
        elif kind == "decision":
            counts.decisions += 1
            deciders[outcome["id"]] += 1
            if stored.proposals.get(outcome["id"]) not in DECIDED[outcome["action"]]:
                counts.decisions_lost += 1
                counts.problems.append(f"decision lost: {outcome}")
        elif kind == "decision conflict":
            counts.conflicts += 1
        elif kind == "answer":
            counts.answers += 1
            answer = (outcome["id"], outcome["organisation"], outcome["decision"])
            if answer not in stored.answers:
                counts.answers_lost += 1
                counts.problems.append(f"answer lost: {outcome}")
        elif kind == "answer refused":
            counts.answers_refused += 1
    counts.listings = len(titles)
    counts.listings_unanswered = sum(len(sent) for sent in unanswered.values())
    for listing_id, title in titles.items():
        if stored.listings.get(listing_id) not in {title} | unanswered.get(listing_id, set()):
            counts.listings_lost += 1
            counts.problems.append(
                f"listing {listing_id}: a client saved {title!r}, "
                f"the database has {stored.listings.get(listing_id)!r}"
            )
    counts.decided_twice = sum(1 for n in deciders.values() if n > 1)
    copies = Counter(received)
    counts.mail = len(stored.mail)
    for message_id, status in stored.mail.items():
        if copies[message_id] and status == "sent":
            counts.mail_delivered += 1
        else:
            counts.mail_undelivered += 1
            counts.problems.append(
                f"mail {message_id}: {status}, received {copies[message_id]} times"
            )
        counts.mail_duplicates += max(copies[message_id] - 1, 0)
    counts.mail_strays = sum(n for message_id, n in copies.items() if message_id not in stored.mail)
    if counts.mail_duplicates:
        counts.problems += [f"mail {m} received {n} times" for m, n in copies.items() if n > 1]
    return counts
