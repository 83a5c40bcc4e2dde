from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue

from matchmaker.accounts.models import Role
from matchmaker.core.auth import require_role
from matchmaker.core.caching import shared_fragment, shared_html
from matchmaker.core.spreadsheets import csv_text
from matchmaker.dashboard.services import PAGE_ROWS, TABLES, Table


def _table(name: str) -> Table:
    """The figures change when listings, organisations or proposals do: built once for every
    coordinator reading them, in their language."""
    return shared_fragment(f"dashboard:{name}", TABLES[name])


bp = Blueprint("dashboard", __name__, url_prefix="/coordination/dashboard")


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
    return Response(
        csv_text(table.headers, table.rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}.csv"},
    )
