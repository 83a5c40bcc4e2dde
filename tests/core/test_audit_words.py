"""Issue 14: the audit trail and a proposal's history read as words, in the reader's language,
with what people wrote shown as written (no JSON, no escaped Greek)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from matchmaker.accounts.models import Role
from matchmaker.audit import routes as audit_routes
from matchmaker.core.audit import record_event
from matchmaker.core.audit_words import action_label, details_in_words
from matchmaker.extensions import db
from tests.core.pager import walk_there_and_back
from tests.factories import make_organisation, make_user


def test_actions_and_details_in_words(app: Flask) -> None:
    with app.test_request_context():
        assert action_label("proposal:approve") == "Proposal approved and parties introduced"
        assert action_label("challenge:close") == "Listing closed"
        assert action_label("something:new") == "something:new"
        words = [
            (d.label, d.value)
            for d in details_in_words(
                {"reason": "Δεν ταιριάζει", "changes": {"title": ["Old", "New"]}, "note": None}
            )
        ]
        assert words == [
            ("Reason", "Δεν ταιριάζει"),
            ("Changes", "Title: Old, New"),
            ("Note", "—"),
        ]
        with force_locale("fr"):
            assert action_label("organisation:verify") == "Organisation vérifiée"
            assert details_in_words({"reason": "x"})[0].label == "Motif"
        with force_locale("el"):  # ";" would be a question mark
            (changes,) = details_in_words({"changes": {"title": ["A", "B"], "scope": ["c", "d"]}})
            assert changes.value.count("· ") == 1 and ";" not in changes.value
            # An import's counts in words; nothing updated says so.
            created, updated = details_in_words(
                {"created": {"organisations": 2, "listings": 3}, "updated": {}}
            )
            assert created.value == "Οργανισμοί: 2· Καταχωρίσεις: 3"
            assert updated.value == "—"


def test_the_audit_page_shows_words_not_json(client: FlaskClient, login: Any) -> None:
    coordinator = make_user(role=Role.COORDINATOR)
    organisation = make_organisation(name="Δήμος Αθηναίων")
    record_event(
        "organisation:reject",
        actor=coordinator,
        subject=organisation,
        details={"reason": "Λείπει η περιγραφή"},
    )
    db.session.commit()
    login(coordinator)
    page = client.get("/coordination/audit").get_data(as_text=True)
    assert "Organisation rejected" in page
    assert '<dt>Reason</dt><dd><span dir="auto">Λείπει η περιγραφή</span></dd>' in page
    assert "\\u039b" not in page and "{&#34;" not in page


def test_every_action_the_code_records_has_words(app: Flask) -> None:
    """A new action recorded without words would show its code (``user:erase``) on the audit
    page: walk the source for every action given to ``record_event``."""
    import re
    from pathlib import Path

    import matchmaker

    source = Path(matchmaker.__file__).parent
    recorded = {
        action
        for path in source.rglob("*.py")
        for action in re.findall(
            r'record_event\(\s*"([a-z_]+:[a-z_-]+)"', path.read_text(encoding="utf-8")
        )
    }
    assert len(recorded) > 30  # the walk found the calls
    with app.test_request_context():
        assert {action for action in recorded if action_label(action) == action} == set()


def test_the_audit_trail_pages_walk_every_event_once_forward_and_back(
    client: FlaskClient, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_routes, "AUDIT_PAGE_SIZE", 3)
    coordinator = make_user(role=Role.COORDINATOR)
    organisations = [make_organisation(name=f"Co-op {number}") for number in range(7)]
    for organisation in organisations:
        record_event("organisation:verify", actor=coordinator, subject=organisation)
    db.session.commit()
    login(coordinator)

    def subjects(body: str) -> list[str]:
        return re.findall(r"Organisation (\d+)</td>", body)

    address = "/coordination/audit?action=organisation:verify"
    pages, last = walk_there_and_back(client, address, subjects)
    newest_first = [str(organisation.id) for organisation in reversed(organisations)]
    assert [subject for page in pages for subject in page] == newest_first
    assert "action=organisation" in last
    assert client.get("/coordination/audit?cursor=eyJhZnRlciI6WyIxIl19").status_code == 400
