"""The audit trail in words, in the reader's language: "Proposal approved" rather than
``proposal:approve``, and details as labelled values rather than raw JSON (where Greek came out
as ``\\u0391\\u03b8...``). Used by the audit page and a proposal's history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from matchmaker.core.i18n import comma, semicolon

# Listings record their kind in the action (need:create, offer:close ...): one word for all.
_LISTING_KINDS = ("need", "offer", "challenge")
_LISTING_ACTIONS = {
    "create": _l("Listing posted"),
    "update": _l("Listing edited"),
    "pause": _l("Listing paused"),
    "reopen": _l("Listing reopened"),
    "close": _l("Listing closed"),
}
ACTIONS = {
    "announcement:create": _l("Announcement posted"),
    "announcement:update": _l("Announcement edited"),
    "announcement:withdraw": _l("Announcement withdrawn"),
    "data:import": _l("Data imported"),
    "job:retry": _l("Job tried again"),
    "mail:retry": _l("Mail sent again"),
    "organisation:create": _l("Organisation registered"),
    "organisation:update": _l("Organisation edited"),
    "organisation:verify": _l("Organisation verified"),
    "organisation:reject": _l("Organisation rejected"),
    "organisation:accept-changes": _l("Organisation's changes accepted"),
    "organisation:refuse-changes": _l("Organisation's changes refused"),
    "organisation:add-contact": _l("Contact person added"),
    "organisation:remove-contact": _l("Contact person removed"),
    "organisation:set-logo": _l("Logo changed"),
    "organisation:remove-logo": _l("Logo removed"),
    "organisation:invite": _l("Member invited"),
    "organisation:join": _l("Member joined"),
    "organisation:remove-member": _l("Member removed"),
    "organisation:revoke-invitation": _l("Invitation withdrawn"),
    "organisation:leave": _l("Member left"),
    "organisation:new-owner": _l("New owner"),
    "organisation:close": _l("Organisation closed"),
    "proposal:request": _l("Introduction requested"),
    "proposal:approve": _l("Proposal approved and parties introduced"),
    "proposal:reject": _l("Proposal rejected"),
    "proposal:accept": _l("A party accepted"),
    "proposal:decline": _l("A party declined"),
    "proposal:agree": _l("Every party accepted"),
    "proposal:withdraw": _l("Proposal withdrawn"),
    "proposal:cover": _l("Covered by another proposal"),
    "proposal:uncover": _l("Back in the queue"),
    "proposal:outcome": _l("Outcome recorded"),
    "settings:matching": _l("Matching settings changed"),
    "theme:create": _l("Theme created"),
    "theme:update": _l("Theme edited"),
    "theme:retire": _l("Theme retired"),
    "theme:restore": _l("Theme restored"),
    "territory:create": _l("Territory created"),
    "territory:update": _l("Territory edited"),
    "territory:appoint": _l("Coordinator appointed"),
    "territory:dismiss": _l("Coordinator's appointment ended"),
    "token:create": _l("Access token created"),
    "token:revoke": _l("Access token revoked"),
    "user:change-email": _l("Email address changed"),
    "user:change-password": _l("Password changed"),
    "user:reset-password": _l("Password reset"),
    "user:role": _l("Role changed"),
    "user:erase": _l("Account erased"),
}
DETAIL_LABELS = {
    "after": _l("After"),
    "attempts": _l("Attempts"),
    "before": _l("Before"),
    "by": _l("Covered by proposal"),
    "changes": _l("Changes"),
    "contacts": _l("Contact people"),
    "created": _l("Created"),
    "declined": _l("Declined proposal"),
    "description": _l("Description"),
    "email": _l("Email address"),
    "happened_on": _l("When"),
    "invitations_revoked": _l("Invitations withdrawn"),
    "kind": _l("Kind"),
    "last_error": _l("Last error"),
    "listing": _l("Listing"),
    "listings": _l("Listings"),
    "message": _l("Message"),
    "name": _l("Name"),
    "note": _l("Note"),
    "organisation": _l("Organisation"),
    "organisations": _l("Organisations"),
    "position": _l("Position"),
    "reason": _l("Reason"),
    "scope": _l("Scope"),
    "user": _l("User"),
    "slug": _l("Short name"),
    "template": _l("Template"),
    "territory": _l("Territory"),
    "title": _l("Title"),
    "updated": _l("Updated"),
    "withdrawn": _l("Withdrawn proposal"),
}


# What an event is about (AuditEvent.subject_type), in words. "territorie" is how events about a
# territory were recorded before record_event spelled the singular right.
SUBJECTS = {
    "access_token": _l("Access token"),
    "announcement": _l("Announcement"),
    "data": _l("Data"),
    "job": _l("Background job"),
    "listing": _l("Listing"),
    "organisation": _l("Organisation"),
    "outbox_message": _l("Mail"),
    "proposal": _l("Proposal"),
    "territory": _l("Territory"),
    "theme": _l("Theme"),
    "user": _l("User"),
}
_OLD_SUBJECT_TYPES = {"territorie": "territory"}


def subject_type(stored: str) -> str:
    """A stored subject type as it is recorded now."""
    return _OLD_SUBJECT_TYPES.get(stored, stored)


def stored_subject_types(subject: str) -> list[str]:
    """Every way ``subject`` (a subject type as recorded now) is stored."""
    return [subject, *(old for old, new in _OLD_SUBJECT_TYPES.items() if new == subject)]


def subject_label(stored: str) -> str:
    """A subject type in words; an unknown one as it is."""
    label = SUBJECTS.get(subject_type(stored))
    return str(label) if label is not None else stored


def action_label(action: str) -> str:
    """An action code in words; an unknown code as it is (nothing is hidden)."""
    subject, _sep, verb = action.partition(":")
    if subject in _LISTING_KINDS and verb in _LISTING_ACTIONS:
        return str(_LISTING_ACTIONS[verb])
    label = ACTIONS.get(action)
    return str(label) if label is not None else action


@dataclass(frozen=True)
class Detail:
    label: str
    value: str


def _words(value: Any) -> str:
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list | tuple):
        return comma().join(_words(v) for v in value)
    if isinstance(value, dict):  # ";" is the question mark in Greek
        return semicolon().join(f"{detail_label(k)}: {_words(v)}" for k, v in value.items())
    return str(value)


def detail_label(key: str) -> str:
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ").capitalize()


def details_in_words(details: dict[str, Any] | None) -> list[Detail]:
    """An event's details as labelled values, text as it was written (Greek stays Greek)."""
    return [Detail(detail_label(key), _words(value)) for key, value in (details or {}).items()]
