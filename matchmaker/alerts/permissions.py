from __future__ import annotations

from typing import Any

from matchmaker.alerts.models import SavedSearch


def can_save_searches(user: Any) -> bool:
    """Signed in with a confirmed address: alerts are mail, to an address proven to be theirs."""
    return bool(user.is_authenticated and user.is_email_confirmed)


def can_manage_search(user: Any, search: SavedSearch) -> bool:
    """Only its owner sees, renames, pauses or deletes a saved search."""
    return bool(user.is_authenticated and search.user_id == user.id)
