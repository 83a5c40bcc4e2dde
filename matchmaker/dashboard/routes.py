from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from matchmaker.accounts.models import Role
from matchmaker.core.auth import require_role
from matchmaker.core.caching import shared_fragment, shared_html
from matchmaker.core.spreadsheets import csv_response, csv_text
from matchmaker.dashboard.services import PAGE_ROWS, TABLES, Table, waiting_for_coordinators


def _table(name: str) -> Table:
    """The figures change when listings, organisations or proposals do: built once for every
    coordinator reading them, in their language."""
    return shared_fragment(f"dashboard:{name}", TABLES[name])


bp = Blueprint("dashboard", __name__, url_prefix="/coordination/dashboard")


@bp.app_context_processor
def _coordinators_menu() -> dict[str, object]:
    """``waiting()`` for the coordinators' menu: counted only when a coordinator's page asks."""
    return {"waiting": waiting_for_coordinators}


@bp.get("")
@require_role(Role.COORDINATOR, Role.ADMIN)
def index() -> ResponseReturnValue:
    # The same for every coordinator: drawn once a generation and language.
    content = shared_html(
        "dashboard-page",
        lambda: render_template(
            "dashboard/_tables.html", tables=[_table(n) for n in TABLES], page_rows=PAGE_ROWS
        ),
    )
    return render_template("dashboard/index.html", content=content)


@bp.get("/<name>.csv")
@require_role(Role.COORDINATOR, Role.ADMIN)
def export(name: str) -> ResponseReturnValue:
    if name not in TABLES:
        abort(404)
    table = _table(name)
    return csv_response(csv_text(table.headers, table.rows), f"{name}.csv")
