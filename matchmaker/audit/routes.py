from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from matchmaker.accounts.models import Role, User
from matchmaker.core.arguments import text_arg
from matchmaker.core.audit_words import (
    action_label,
    details_in_words,
    stored_subject_types,
    subject_label,
    subject_type,
)
from matchmaker.core.auth import require_role
from matchmaker.core.models import AuditEvent
from matchmaker.core.paging import Key, page_of, paging_args
from matchmaker.extensions import db
from matchmaker.territories.services import coverage_of

bp = Blueprint("audit", __name__, url_prefix="/coordination/audit")
# The trail, the latest event first: its pages follow one another by event id.
NEWEST_FIRST = (Key(AuditEvent.id, descending=True),)
AUDIT_PAGE_SIZE = 50


@bp.get("")
@require_role(Role.COORDINATOR, Role.ADMIN)
def index() -> ResponseReturnValue:
    action = text_arg("action")
    subject = text_arg("subject")
    actor = text_arg("actor").lower()
    # A territorial coordinator reads what happened in their territory only.
    statement = sa.select(AuditEvent).where(coverage_of(current_user).audit_events())
    if action:
        statement = statement.where(AuditEvent.action.contains(action, autoescape=True))
    if subject:
        statement = statement.where(AuditEvent.subject_type.in_(stored_subject_types(subject)))
    if actor:
        statement = statement.where(
            AuditEvent.actor_id.in_(
                sa.select(User.id).where(User.email.contains(actor, autoescape=True))
            )
        )
    page = page_of(statement, per_page=AUDIT_PAGE_SIZE, keys=NEWEST_FIRST, count=False)
    stored = db.session.scalars(sa.select(AuditEvent.subject_type).distinct())
    subjects = sorted({subject_type(s) for s in stored}, key=subject_label)
    args = paging_args()
    return render_template(
        "core/audit.html",
        page=page,
        args=args,
        action=action,
        subject=subject,
        actor=actor,
        subjects=subjects,
    )


# The trail in words on every page that shows part of it (here, and a proposal's history).
bp.add_app_template_filter(action_label, "action_label")
bp.add_app_template_filter(details_in_words, "details_in_words")
bp.add_app_template_filter(subject_label, "subject_label")
