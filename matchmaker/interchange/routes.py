from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from matchmaker.accounts.models import Role
from matchmaker.core.auth import acting_user, require_role
from matchmaker.core.i18n import gettext as _
from matchmaker.core.jobs import create_job
from matchmaker.core.spreadsheets import csv_response
from matchmaker.core.uploads import accepts_upload
from matchmaker.extensions import db
from matchmaker.interchange.csv_tables import TABLES, tables_from_document
from matchmaker.interchange.document import UnreadableFile
from matchmaker.interchange.files import read_upload
from matchmaker.interchange.forms import ImportForm
from matchmaker.interchange.services import ImportRefused, export_document, import_document
from matchmaker.matching.tasks import FULL_RUN
from matchmaker.territories.services import coverage_of

bp = Blueprint("interchange", __name__, url_prefix="/coordination/data")
COORDINATORS = (Role.COORDINATOR, Role.ADMIN)


@bp.get("")
@require_role(*COORDINATORS)
def index() -> ResponseReturnValue:
    return render_template(
        "interchange/index.html", form=ImportForm(), tables=list(TABLES), can_import=_can_import()
    )


def _can_import() -> bool:
    """An import may create and verify organisations anywhere: coordinators of every territory
    only (a territorial coordinator's exports cover their territory)."""
    return coverage_of(current_user).is_everything


@bp.post("/import")
@accepts_upload("IMPORT_MAX_REQUEST_BYTES")
@require_role(*COORDINATORS)
def import_file() -> ResponseReturnValue:
    if not _can_import():
        abort(403)
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template(
            "interchange/index.html", form=form, tables=list(TABLES), can_import=True
        ), 422
    upload = form.file.data
    problems: list[str] = []
    problem_total = 0
    report = None
    try:
        document = read_upload(upload.filename, upload.read())
        report = import_document(document, actor=acting_user(), verify=not form.unverified.data)
    except UnreadableFile as error:
        problems, problem_total = [str(error)], 1
    except ImportRefused as refused:
        problems, problem_total = refused.problems.lines(), refused.problems.total
    job = None
    if problems or form.dry_run.data:
        db.session.rollback()
    else:
        if report is not None and (report.created["listings"] or report.updated["listings"]):
            # Imported listings are matched as a whole, by a full run (one job for thousands of
            # listings, instead of one each): it starts once the import commits.
            job = create_job(FULL_RUN, requested_by=acting_user())
        db.session.commit()
        flash(
            _("The file is imported. The matcher runs again to match its listings.")
            if job is not None
            else _("The file is imported."),
            "success",
        )
    return render_template(
        "interchange/index.html",
        form=ImportForm(formdata=None),
        tables=list(TABLES),
        problems=problems,
        problem_total=problem_total,
        report=report,
        job=job,
        dry_run=form.dry_run.data,
        can_import=True,
    ), 422 if problems else 200


@bp.get("/export.json")
@require_role(*COORDINATORS)
def export_json() -> ResponseReturnValue:
    body = json.dumps(export_document(coverage_of(current_user)), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": "attachment; filename=sse-matchmaker.json"},
    )


@bp.get("/export/<table>.csv")
@require_role(*COORDINATORS)
def export_csv(table: str) -> ResponseReturnValue:
    if table not in TABLES:
        abort(404)
    document = export_document(coverage_of(current_user))
    return csv_response(tables_from_document(document)[table], f"{table}.csv")
