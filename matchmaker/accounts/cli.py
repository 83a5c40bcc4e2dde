from __future__ import annotations

import click
from flask.cli import AppGroup

from matchmaker.accounts.models import Role
from matchmaker.accounts.services import create_user
from matchmaker.core.errors import DomainError
from matchmaker.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.MEMBER.value,
    show_default=True,
)
@click.option("--name", "display_name", help="Display name (defaults to the part before @).")
@click.password_option(
    envvar="MATCHMAKER_NEW_USER_PASSWORD",
    help="Asked for when not given (or set MATCHMAKER_NEW_USER_PASSWORD).",
)
def create_user_command(email: str, role: str, display_name: str | None, password: str) -> None:
    """Create a confirmed account, e.g. the first admin: users create --role admin EMAIL."""
    try:
        user = create_user(
            email=email,
            display_name=display_name or email.split("@", 1)[0],
            password=password,
            role=Role(role),
            confirmed=True,
        )
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email}")
