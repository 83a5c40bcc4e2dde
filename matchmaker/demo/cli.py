from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from matchmaker.accounts.models import Role, User
from matchmaker.accounts.services import create_user, find_user_by_email
from matchmaker.db import utcnow
from matchmaker.demo.data import DEMO_PASSWORD, ORGANISATIONS, STAFF
from matchmaker.extensions import db
from matchmaker.organisations.models import (
    ContactPerson,
    Membership,
    MembershipRole,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)

demo_cli = AppGroup("demo", help="Demo data from the four seed cases.")


def _user(email: str, name: str, role: Role = Role.MEMBER) -> User:
    return find_user_by_email(email) or create_user(
        email=email, display_name=name, password=DEMO_PASSWORD, role=role, confirmed=True
    )


def load_demo() -> dict[str, int]:
    """Create what is missing of the demo data; what exists is left as it is."""
    created = {"users": 0, "organisations": 0}
    users_before = db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0
    for person in STAFF:
        _user(person["email"], person["name"], Role(person["role"]))
    coordinator = _user(STAFF[1]["email"], STAFF[1]["name"])
    for data in ORGANISATIONS:
        owner = _user(data["owner"]["email"], data["owner"]["name"])
        organisation = db.session.scalar(
            sa.select(Organisation).where(
                Organisation.name == data["name"], Organisation.country == data["country"]
            )
        )
        if organisation is not None:
            continue
        organisation = Organisation(
            name=data["name"],
            kind=OrganisationKind(data["kind"]),
            description=data["description"],
            website=data["website"],
            city=data["city"],
            region=data["region"],
            country=data["country"],
            status=OrganisationStatus.VERIFIED,
            verified_at=utcnow(),
            verified_by_id=coordinator.id,
            created_by_id=owner.id,
            contacts=[ContactPerson(**contact) for contact in data["contacts"]],
            memberships=[Membership(user=owner, role=MembershipRole.OWNER)],
        )
        db.session.add(organisation)
        created["organisations"] += 1
    db.session.flush()
    users_after = db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0
    created["users"] = users_after - users_before
    return created


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when any organisation exists.")
def load_command(if_empty: bool) -> None:
    """Load the demo organisations, people and accounts (safe to run twice)."""
    if if_empty and db.session.scalar(sa.select(Organisation.id).limit(1)) is not None:
        click.echo("The database already has organisations; demo data not loaded.")
        return
    created = load_demo()
    db.session.commit()
    click.echo(
        f"Demo data: {created['organisations']} organisations and {created['users']} accounts "
        f"created. Every demo account's password is {DEMO_PASSWORD!r}."
    )
