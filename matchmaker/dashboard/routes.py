from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from matchmaker.accounts.models import Role
from matchmaker.core.auth import require_role
from matchmaker.core.caching import for_audience, shared_fragment, shared_html
from matchmaker.core.lent_user import reading_user
from matchmaker.core.spreadsheets import csv_response, csv_text
from matchmaker.dashboard.services import (
    PAGE_ROWS,
    TABLES,
    Table,
    Waiting,
    waiting_for_coordinators,
)
from matchmaker.territories.services import Coverage, coordinators_audience, coverage_of


def _table(name: str, coverage: Coverage) -> Table:
    """The figures change when listings, organisations or proposals do: built once for every
    coordinator of the same territories reading them, in their language."""
    return shared_fragment(f"dashboard:{name}", lambda: TABLES[name](coverage), coverage.key)


bp = Blueprint("dashboard", __name__, url_prefix="/coordination/dashboard")


@bp.app_context_processor
def _coordinators_menu() -> dict[str, object]:
    """``waiting()`` for the coordinators' menu: counted only when a coordinator's page asks,
    in their territories (failed mail and jobs for admins only: only their menu shows them)."""

    def waiting() -> Waiting:
        return waiting_for_coordinators(coverage_of(current_user), for_admin=current_user.is_admin)

    return {"waiting": waiting}


@bp.get("")
@require_role(Role.COORDINATOR, Role.ADMIN)
@for_audience(lambda: coordinators_audience(reading_user()))
def index() -> ResponseReturnValue:
    # The same for every coordinator of the same territories: drawn once a generation,
    # language and coverage.
    coverage = coverage_of(current_user)
    content = shared_html(
        "dashboard-page",
        lambda: render_template(
            "dashboard/_tables.html",
            tables=[_table(n, coverage) for n in TABLES],
            page_rows=PAGE_ROWS,
        ),
        coverage.key,
    )
    return render_template("dashboard/index.html", content=content)


@bp.get("/<name>.csv")
@require_role(Role.COORDINATOR, Role.ADMIN)
def export(name: str) -> ResponseReturnValue:
    if name not in TABLES:
        abort(404)
    table = _table(name, coverage_of(current_user))
    return csv_response(csv_text(table.headers, table.rows), f"{name}.csv")
