from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from matchmaker.accounts.models import Role
from matchmaker.core.auth import require_role
from matchmaker.core.spreadsheets import csv_response, csv_text
from matchmaker.dashboard.services import TABLES, waiting_for_coordinators

bp = Blueprint("dashboard", __name__, url_prefix="/coordination/dashboard")


@bp.app_context_processor
def _coordinators_menu() -> dict[str, object]:
    """``waiting()`` for the coordinators' menu: counted only when a coordinator's page asks."""
    return {"waiting": waiting_for_coordinators}


@bp.get("")
@require_role(Role.COORDINATOR, Role.ADMIN)
def index() -> ResponseReturnValue:
    return render_template("dashboard/index.html", tables=[build() for build in TABLES.values()])


@bp.get("/<name>.csv")
@require_role(Role.COORDINATOR, Role.ADMIN)
def export(name: str) -> ResponseReturnValue:
    if name not in TABLES:
        abort(404)
    table = TABLES[name]()
    return csv_response(csv_text(table.headers, table.rows), f"{name}.csv")
