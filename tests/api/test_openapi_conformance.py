"""Schemathesis against /api/v1/openapi.json: for every operation, generated requests (valid
and not) never get a server error, and every answer matches the document (status code, content
type, body). Member operations run with a member's write token over a small world; the
coordination ones with a coordinator's. A few examples per operation keep `make test` quick."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from matchmaker.accounts import access_tokens
from matchmaker.accounts.models import Role, TokenScope
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind
from matchmaker.matching.engine import run_full
from matchmaker.organisations.models import OrganisationKind
from tests.factories import make_listing, make_organisation, make_user

# Per operation: enough to reach every status an operation answers with, few enough for
# `make test` (a longer run: MATCHMAKER_API_EXAMPLES=500).
EXAMPLES = int(os.environ.get("MATCHMAKER_API_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def tokens(app: Flask) -> dict[str, str]:
    """A member of an organisation with listings and a proposal, and a coordinator."""
    member = make_user()
    network = make_organisation(owner=member, contacts=[{"name": "Rosie", "position": "CEO"}])
    university = make_organisation(kind=OrganisationKind.ACADEMIC_INSTITUTION)
    for organisation, kind in ((network, ListingKind.NEED), (university, ListingKind.OFFER)):
        make_listing(
            organisation=organisation,
            kind=kind,
            themes=("research-evaluation", "knowledge-exchange"),
            description="Research and evaluation of social enterprise programmes.",
        )
    make_listing(kind=ListingKind.CHALLENGE)
    run_full()
    coordinator = make_user(role=Role.COORDINATOR)
    found = {
        "member": access_tokens.create_token(user=member, name="t", scope=TokenScope.WRITE),
        "coordinator": access_tokens.create_token(
            user=coordinator, name="t", scope=TokenScope.WRITE
        ),
    }
    db.session.commit()
    return {who: new.secret for who, new in found.items()}


def _run(operation: Any, headers: dict[str, str]) -> set[int]:
    """The status codes ``operation`` answered to the generated requests."""
    seen: set[int] = set()

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def keeps_to_the_document(case: Any) -> None:
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        seen.add(response.status_code)

    keeps_to_the_document()
    return seen


def test_every_operation_keeps_to_the_document(app: Flask, tokens: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    answered = {}
    for operation in operations:
        who = "coordinator" if operation.path.startswith("/api/v1/coordination") else "member"
        answered[operation.label] = _run(operation, {"Authorization": f"Bearer {tokens[who]}"})
    # The generated requests reach the operations, not only their error answers.
    for label in ("GET /api/v1/listings", "GET /api/v1/me/listings", "GET /api/v1/themes"):
        assert 200 in answered[label], (label, answered[label])
    assert 422 in answered["POST /api/v1/me/listings"]
