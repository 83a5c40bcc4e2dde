"""The one function that writes the audit trail."""

from __future__ import annotations

from typing import Any

from matchmaker.core.models import AuditEvent
from matchmaker.extensions import db

# The one table name whose singular is not its name less an "s".
_SINGULAR = {"territories": "territory"}


def subject_type_of(subject: Any) -> str:
    """What the trail calls ``subject``'s kind: its table's name in the singular."""
    table = type(subject).__tablename__
    return _SINGULAR.get(table, table.removesuffix("s"))


def record_event(
    action: str,
    *,
    actor: Any | None,
    subject: Any,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append ``action`` (e.g. ``"organisation:verify"``) done by ``actor`` to ``subject``.

    ``subject`` is a model instance, or None for actions on many rows at once (an import).
    """
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        subject_type=subject_type_of(subject) if subject else "data",
        subject_id=subject.id if subject else None,
        details=details or {},
    )
    db.session.add(event)
    return event
