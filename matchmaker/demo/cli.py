from __future__ import annotations

import json

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from matchmaker.accounts.models import Role, User
from matchmaker.accounts.services import create_user, find_user_by_email
from matchmaker.demo.data import DEMO_PASSWORD, OWNERS, SEED_FILE, STAFF, TERRITORIES
from matchmaker.extensions import db
from matchmaker.interchange.services import ImportReport, import_document
from matchmaker.matching.engine import run_full
from matchmaker.organisations.models import Membership, MembershipRole, Organisation
from matchmaker.territories import services as territories

demo_cli = AppGroup("demo", help="Demo data from the four seed cases.")


def _user(email: str, name: str, role: Role = Role.MEMBER) -> User:
    return find_user_by_email(email) or create_user(
        email=email, display_name=name, password=DEMO_PASSWORD, role=role, confirmed=True
    )


def load_demo() -> tuple[ImportReport, int]:
    """Load the seed organisations and listings, and their accounts; safe to run twice."""
    users_before = db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0
    for person in STAFF:
        _user(person["email"], person["name"], Role(person["role"]))
    coordinator = _user(STAFF[1]["email"], STAFF[1]["name"])
    document = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    report = import_document(document, actor=coordinator, verify=True)
    for record in document["organisations"]:
        organisation = db.session.execute(
            sa.select(Organisation).where(
                Organisation.name == record["name"], Organisation.country == record["country"]
            )
        ).scalar_one()
        email, name = OWNERS[record["ref"]]
        owner = _user(email, name)
        if not any(m.user_id == owner.id for m in organisation.memberships):
            organisation.memberships.append(Membership(user=owner, role=MembershipRole.OWNER))
        if organisation.created_by_id is None:
            organisation.created_by_id = owner.id
    db.session.flush()
    _load_territories(admin=_user(STAFF[0]["email"], STAFF[0]["name"]))
    users_after = db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0
    return report, users_after - users_before


def _load_territories(*, admin: User) -> None:
    """The four territories and a territorial coordinator for each (kept as they are when
    they exist: an admin may have changed them)."""
    for record in TERRITORIES:
        territory = territories.territory_by_slug(record.slug)
        if territory is None:
            territory = territories.create_territory(
                actor=admin,
                slug=record.slug,
                name=record.name,
                language=record.language,
                subdivisions=list(record.subdivisions),
                geonames_ids=list(record.geonames_ids),
            )
        email, name = record.coordinator
        coordinator = _user(email, name, Role.COORDINATOR)
        if not any(a.user_id == coordinator.id for a in territory.appointments):
            territories.appoint_coordinator(territory=territory, actor=admin, user=coordinator)
    db.session.flush()


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when any organisation exists.")
def load_command(if_empty: bool) -> None:
    """Load the demo organisations, listings and accounts (safe to run twice)."""
    if if_empty and db.session.scalar(sa.select(Organisation.id).limit(1)) is not None:
        click.echo("The database already has organisations; demo data not loaded.")
        return
    report, users = load_demo()
    db.session.commit()
    run = run_full(wait=True)
    db.session.commit()
    click.echo(
        f"Demo data: {report.summary()}; {users} accounts created; "
        f"{run.proposals_created} proposals made by the matcher. "
        f"Every demo account's password is {DEMO_PASSWORD!r}."
    )
