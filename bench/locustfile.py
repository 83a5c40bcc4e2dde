"""The mixed load of ``bench/load.py``: visitors, members, coordinators and parties.

Run by ``bench/load.py`` (``make bench-load``), which prepares the accounts and passes them in
``BENCH_ACCOUNTS`` (a JSON file); every outcome a client saw succeed is written to
``BENCH_OUTCOMES`` (JSON lines) so that the database can be compared with it afterwards.

Every state change goes through the page's form, as a browser sends it: the hidden fields
(CSRF token, submission key, the proposal's version) come from the page just fetched.
Requests are named by kind ("decide", "answer"...), which is how Locust's table groups them.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import uuid
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task

ACCOUNTS: dict[str, Any] = (
    json.loads(Path(os.environ["BENCH_ACCOUNTS"]).read_text())
    if os.environ.get("BENCH_ACCOUNTS")
    else {"password": "", "members": [], "coordinators": [], "themes": []}
)
OUTCOMES = Path(os.environ.get("BENCH_OUTCOMES", "bench-outcomes.jsonl"))
SEARCH_WORDS = ["research", "training", "housing", "food", "cooperative", "evaluation", "youth"]
_turns: dict[str, itertools.count[int]] = defaultdict(itertools.count)
_outcomes: list[dict[str, Any]] = []


def record(kind: str, **fields: Any) -> None:
    """A change the client saw succeed (or refused, or lose a race), for load.py to check."""
    _outcomes.append({"kind": kind, **fields})


@events.test_stop.add_listener
def _write_outcomes(**_: Any) -> None:
    with OUTCOMES.open("a") as output:
        for outcome in _outcomes:
            output.write(json.dumps(outcome) + "\n")
    _outcomes.clear()


class _Forms(HTMLParser):
    """The forms of a page: action and the values a browser would send unchanged."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attributes.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and attributes.get("name"):
            kind = attributes.get("type", "text")
            if kind == "hidden" or (kind in ("checkbox", "radio") and "checked" in attributes):
                self.forms[-1]["fields"][attributes["name"]] = attributes.get("value") or ""


def forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_to(page: Any, action: str) -> dict[str, str] | None:
    """The hidden fields of the form on ``page`` (a response) that posts to ``action``, or None
    if it has none. A form without an action posts to the page's own address."""
    here = urlsplit(page.url).path
    for form in forms(page.text):
        if (form["action"] or here) == action:
            return dict(form["fields"])
    return None


def location_id(response: Any, pattern: str) -> int | None:
    match = re.fullmatch(pattern, response.headers.get("Location", "").split("?")[0])
    return int(match.group(1)) if match else None


class Visitor(HttpUser):
    """Someone browsing without an account: home, the directory, listings and search."""

    weight = 6
    wait_time = between(0.5, 2)

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="home")

    @task(2)
    def directory(self) -> None:
        self.client.get("/organisations", name="directory")

    @task(3)
    def browse(self) -> None:
        page = self.client.get(random.choice(["/needs", "/offers", "/challenges"]), name="browse")
        ids = re.findall(r'href="/listings/(\d+)"', page.text)
        if ids:
            self.client.get(f"/listings/{random.choice(ids)}", name="listing")

    @task(2)
    def search(self) -> None:
        self.client.get(
            random.choice(["/needs", "/offers"]),
            params={"q": random.choice(SEARCH_WORDS)},
            name="search",
        )


class _SignedIn(HttpUser):
    abstract = True
    pool = "members"  # the accounts this kind of user signs in with, each taken in turn

    def account(self) -> dict[str, Any]:
        accounts = ACCOUNTS[self.pool]
        return dict(accounts[next(_turns[type(self).__name__]) % len(accounts)])

    def on_start(self) -> None:
        self.me = self.account()
        page = self.client.get("/login", name="login form")
        fields = form_to(page, "/login") or {}
        fields |= {"email": self.me["email"], "password": ACCOUNTS["password"]}
        with self.client.post(
            "/login", data=fields, name="login", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"{self.me['email']} could not sign in: {response.status_code}")


class Member(_SignedIn):
    """A member of verified organisations: posts listings and edits the ones it posted."""

    weight = 3
    wait_time = between(1, 3)

    def on_start(self) -> None:
        super().on_start()
        self.posted: list[int] = []

    def save_listing(
        self, url: str, request: str, title: str, themes: int, listing_id: int | None = None
    ) -> int | None:
        """Fill in the listing form at ``url`` and send it; the listing's id if it was saved."""
        page = self.client.get(url, name=f"{request} form")
        fields = form_to(page, url)
        if fields is None:
            return None
        fields |= {
            "title": title,
            "description": f"{title}: {' '.join(random.choices(SEARCH_WORDS, k=12))}.",
            "themes": random.sample(ACCOUNTS["themes"], themes),
            "scope": "regional",
            "language": "en",
        }
        if listing_id is not None:
            # If the run ends before the answer comes, the edit may be saved or not.
            record("listing sent", id=listing_id, title=title)
        with self.client.post(
            url, data=fields, name=request, allow_redirects=False, catch_response=True
        ) as response:
            saved = location_id(response, r"/listings/(\d+)")
            if saved is None:
                response.failure(f"not saved: {response.status_code}")
        return saved

    @task(2)
    def post_listing(self) -> None:
        organisation = random.choice(self.me["organisations"])
        kind = random.choice(["need", "offer"])
        title = f"Bench {kind} {uuid.uuid4().hex[:10]}"
        url = f"/organisations/{organisation}/listings/new/{kind}"
        listing_id = self.save_listing(url, "post listing", title, themes=2)
        if listing_id is not None:
            self.posted.append(listing_id)
            record("listing", id=listing_id, title=title)

    @task(1)
    def edit_listing(self) -> None:
        if not self.posted:
            return
        listing_id = random.choice(self.posted)
        title = f"Bench edited {uuid.uuid4().hex[:10]}"
        url = f"/listings/{listing_id}/edit"
        if self.save_listing(url, "edit listing", title, themes=1, listing_id=listing_id):
            record("listing", id=listing_id, title=title)

    @task(2)
    def my_listings(self) -> None:
        self.client.get("/my/proposals", name="my proposals")


class Coordinator(_SignedIn):
    """Reviews the queue: approves or rejects, sending the version it saw (optimistic lock)."""

    weight = 2
    wait_time = between(0.5, 2)
    pool = "coordinators"

    @task
    def decide(self) -> None:
        queue = self.client.get("/coordination/proposals", name="queue")
        ids = re.findall(r'href="/proposals/(\d+)"', queue.text)
        if not ids:
            return
        # Near the top, as people read a queue: coordinators sometimes pick the same one.
        proposal_id = int(random.choice(ids[:6]))
        page = self.client.get(f"/proposals/{proposal_id}", name="proposal")
        action = random.choice(["approve"] * 3 + ["reject"])
        url = f"/coordination/proposals/{proposal_id}/{action}"
        fields = form_to(page, url)
        if fields is None:  # decided meanwhile
            return
        if action == "reject":
            fields["reject-reason"] = random.choice(["not_relevant", "low_quality", "other"])
        with self.client.post(
            url, data=fields, name="decide", allow_redirects=False, catch_response=True
        ) as response:
            where = response.headers.get("Location", "")
            if response.status_code == 302 and where.endswith("/coordination/proposals"):
                record("decision", id=proposal_id, action=action)
            elif response.status_code == 303 and where.endswith(f"/proposals/{proposal_id}"):
                record("decision conflict", id=proposal_id, action=action)
            else:
                response.failure(f"unexpected answer: {response.status_code} {where}")


class Party(_SignedIn):
    """A member whose organisations were introduced: accepts or declines."""

    weight = 2
    wait_time = between(1, 3)

    @task
    def answer(self) -> None:
        page = self.client.get("/my/proposals", name="my proposals")
        waiting = page.text.split('id="waiting_for_you"', 1)[-1].split("<h2", 1)[0]
        ids = re.findall(r'href="/proposals/(\d+)"', waiting)
        if not ids:
            return
        proposal_id = int(random.choice(ids))
        page = self.client.get(f"/proposals/{proposal_id}", name="proposal")
        answers = re.findall(rf"/proposals/{proposal_id}/organisations/(\d+)/accept", page.text)
        if not answers:
            return
        organisation_id = int(answers[0])
        accept_url = f"/proposals/{proposal_id}/organisations/{organisation_id}/accept"
        fields = form_to(page, accept_url) or {}
        decision = random.choice(["accept"] * 3 + ["decline"])
        if decision == "decline":
            fields[f"r{organisation_id}-message"] = "Not the right moment for us."
        url = accept_url.replace("/accept", f"/{decision}")
        with self.client.post(
            url, data=fields, name="answer", allow_redirects=False, catch_response=True
        ) as response:
            if location_id(response, r"/proposals/(\d+)") == proposal_id:
                record("answer", id=proposal_id, organisation=organisation_id, decision=decision)
            elif response.status_code == 422:
                # Another party declined meanwhile: the proposal takes no more answers.
                response.success()
                record("answer refused", id=proposal_id, organisation=organisation_id)
            else:
                response.failure(f"unexpected answer: {response.status_code}")
