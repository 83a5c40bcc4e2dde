"""Listings: posting, editing and the open → paused → closed lifecycle; themes.

Every change to a listing sends the ``listing_changed`` event (listings/events.py); the
matching feature answers it by matching that listing as soon as the change is committed, so a
new need has its proposals right after it is posted and a closed one has its pending proposals
withdrawn.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from matchmaker.accounts.models import User
from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _
from matchmaker.core.versions import EditConflict, bump_version, is_stale
from matchmaker.core.words import DEFAULT_LANGUAGE, check_language, listing_words
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.listings.events import listing_changed
from matchmaker.listings.models import (
    Listing,
    ListingKind,
    ListingStatus,
    Scope,
    SoughtKind,
    Theme,
)
from matchmaker.organisations.models import Organisation, OrganisationKind

MAX_THEMES = 3
TITLE_LENGTH = (5, 120)
DESCRIPTION_LENGTH = (20, 5000)
# What new_submission_key() makes: 24 random bytes, URL-safe base64 (32 characters).
SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{32}")


# Themes ------------------------------------------------------------------------------------


def all_themes(include_retired: bool = True) -> list[Theme]:
    statement = sa.select(Theme).order_by(Theme.name)
    if not include_retired:
        statement = statement.where(Theme.is_retired.is_(False))
    return list(db.session.scalars(statement))


# Made once: every listing posted or edited asks for its themes.
_THEMES_BY_SLUG = sa.select(Theme).where(Theme.slug.in_(sa.bindparam("slugs", expanding=True)))


def themes_by_slug(slugs: Iterable[str]) -> dict[str, Theme]:
    slugs = list(slugs)
    if not slugs:
        return {}
    return {t.slug: t for t in db.session.scalars(_THEMES_BY_SLUG, {"slugs": slugs})}


def resolve_themes(slugs: Sequence[str], allowed_retired: Iterable[str] = ()) -> list[Theme]:
    """The themes named by ``slugs``: 1 to 3, known, and not retired (unless already held)."""
    slugs = list(dict.fromkeys(slugs))
    if not slugs:
        raise DomainError(_("Choose at least one theme."), "themes")
    if len(slugs) > MAX_THEMES:
        raise DomainError(_("Choose at most %(n)d themes.", n=MAX_THEMES), "themes")
    found = themes_by_slug(slugs)
    allowed = set(allowed_retired)
    for slug in slugs:
        theme = found.get(slug)
        if theme is None:
            raise DomainError(_('Unknown theme "%(slug)s".', slug=slug), "themes")
        if theme.is_retired and slug not in allowed:
            raise DomainError(
                _('The theme "%(name)s" is retired and cannot be chosen.', name=theme.label),
                "themes",
            )
    return [found[slug] for slug in slugs]


def create_theme(*, actor: User, slug: str, name: str, description: str = "") -> Theme:
    if themes_by_slug([slug]):
        raise DomainError(_("A theme with this short name already exists."), "slug")
    theme = Theme(slug=slug, name=name.strip(), description=description.strip())
    db.session.add(theme)
    db.session.flush()
    record_event("theme:create", actor=actor, subject=theme, details={"slug": slug})
    return theme


def update_theme(*, actor: User, theme: Theme, name: str, description: str) -> None:
    before = {"name": theme.name, "description": theme.description}
    if {"name": name.strip(), "description": description.strip()} == before:
        return  # saved unchanged: nothing to record
    theme.name, theme.description = name.strip(), description.strip()
    record_event(
        "theme:update",
        actor=actor,
        subject=theme,
        details={"before": before, "after": {"name": theme.name, "description": theme.description}},
    )


def set_theme_retired(*, actor: User, theme: Theme, retired: bool) -> None:
    theme.is_retired = retired
    record_event("theme:retire" if retired else "theme:restore", actor=actor, subject=theme)


# Listings ----------------------------------------------------------------------------------


def _changed(
    listing: Listing,
    change: str,
    *,
    live_before: bool = False,
    themes_before: Sequence[str] = (),
    words_before: str | None = None,
) -> None:
    """Tell whoever listens (the matcher, saved searches) once the change is in the
    transaction; ``change`` is "create", "update" or the status action ("reopen"...), and
    ``live_before``, ``themes_before`` and ``words_before`` what the listing was before it
    (Listing.is_live: open, not expired, its organisation verified; not live and no themes for
    a listing just posted; its stored words, None when they did not change)."""
    db.session.flush()
    listing_changed.send(
        listing,
        change=change,
        live_before=live_before,
        themes_before=tuple(themes_before),
        words_before=words_before,
    )


def _check_dates(expires_on: date | None, deadline: date | None, today: date) -> None:
    """The dates given may not be in the past (an edit passes only those it changes)."""
    if deadline is not None and deadline < today:
        raise DomainError(_("The deadline cannot be in the past."), "deadline")
    if expires_on is not None and expires_on < today:
        raise DomainError(_("The expiry date cannot be in the past."), "expires_on")


def _check_text(title: str, description: str) -> None:
    if not TITLE_LENGTH[0] <= len(title.strip()) <= TITLE_LENGTH[1]:
        raise DomainError(_("The title needs 5 to 120 characters."), "title")
    if not DESCRIPTION_LENGTH[0] <= len(description.strip()) <= DESCRIPTION_LENGTH[1]:
        raise DomainError(_("The description needs 20 to 5,000 characters."), "description")


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


def usable_submission_key(value: str | None) -> str | None:
    """A key as :func:`new_submission_key` makes them, or None for anything else."""
    if value and SUBMISSION_KEY.fullmatch(value):
        return value
    return None


def submitted_listing(*, organisation: Organisation, submission_key: str | None) -> Listing | None:
    """The listing an earlier sending of the same form created, if any."""
    if submission_key is None:
        return None
    return db.session.scalar(
        sa.select(Listing).where(
            Listing.organisation_id == organisation.id,
            Listing.submission_key == submission_key,
        )
    )


def create_listing(
    *,
    organisation: Organisation,
    actor: User | None,
    kind: ListingKind,
    title: str,
    description: str,
    themes: Sequence[str],
    scope: Scope,
    expires_on: date | None = None,
    deadline: date | None = None,
    sought_kinds: Sequence[OrganisationKind] = (),
    language: str = DEFAULT_LANGUAGE,
    submission_key: str | None = None,
) -> Listing:
    """A new listing, or the one this very form already created (sent twice)."""
    earlier = submitted_listing(organisation=organisation, submission_key=submission_key)
    if earlier is not None:
        return earlier
    if kind == ListingKind.CHALLENGE:
        if organisation.kind != OrganisationKind.PUBLIC_AGENCY:
            raise DomainError(_("Only public agencies post challenges."))
        if not sought_kinds:
            raise DomainError(_("Choose the kinds of partner the challenge seeks."), "sought_kinds")
    _check_text(title, description)
    if kind == ListingKind.CHALLENGE and deadline is None:
        raise DomainError(_("A challenge needs a deadline."), "deadline")
    _check_dates(expires_on, deadline, utcnow().date())
    listing = Listing(
        organisation=organisation,
        kind=kind,
        title=title.strip(),
        description=description.strip(),
        scope=scope,
        language=check_language(language),
        expires_on=expires_on,
        deadline=deadline if kind == ListingKind.CHALLENGE else None,
        created_by=actor,
        submission_key=submission_key,
        themes=resolve_themes(themes),
        sought=[SoughtKind(kind=k) for k in dict.fromkeys(sought_kinds)]
        if kind == ListingKind.CHALLENGE
        else [],
    )
    db.session.add(listing)
    db.session.flush()
    record_event(
        f"{kind.value}:create", actor=actor, subject=listing, details={"title": listing.title}
    )
    _changed(listing, "create")
    return listing


def update_listing(
    *,
    listing: Listing,
    actor: User | None,
    title: str,
    description: str,
    themes: Sequence[str],
    scope: Scope,
    expires_on: date | None = None,
    deadline: date | None = None,
    sought_kinds: Sequence[OrganisationKind] = (),
    language: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Apply an edit; ``expected_version`` is the version the form (or the API's ETag) was
    read at: when someone else saved the listing since, EditConflict, and nothing changes.
    None saves without comparing (a form or a request that does not say)."""
    if is_stale(listing, expected_version):
        raise EditConflict(
            _(
                "Someone else saved changes to this listing while you were editing it. "
                "Nothing of yours is saved yet: compare your entries below with the saved "
                "listing, then save again."
            )
        )
    _check_text(title, description)
    today = utcnow().date()
    # A date already on the listing may stay as it is; a changed one may not be in the past.
    # (An unchanged deadline is passed as None: the check that a challenge has one is below.)
    _check_dates(
        expires_on if expires_on != listing.expires_on else None,
        deadline if deadline != listing.deadline else None,
        today,
    )
    if listing.kind == ListingKind.CHALLENGE and deadline is None:
        raise DomainError(_("A challenge needs a deadline."), "deadline")
    if listing.kind == ListingKind.CHALLENGE and not sought_kinds:
        raise DomainError(_("Choose the kinds of partner the challenge seeks."), "sought_kinds")
    new_themes = resolve_themes(themes, allowed_retired=[t.slug for t in listing.themes])
    # An open listing past its date is not live: given a later one, it is again.
    live_before = listing.is_live(today)
    changes: dict[str, Any] = {}

    def change(name: str, before: Any, after: Any) -> None:
        if before != after:
            changes[name] = [str(before) if before is not None else None, str(after)]

    # Its words before the edit, as its text and language give them (matching/text.py).
    words_before = listing_words(listing.title, listing.description, listing.language)
    change("title", listing.title, title.strip())
    change("description", listing.description, description.strip())
    change("scope", listing.scope.value, scope.value)
    change("expires_on", listing.expires_on, expires_on)
    if language is not None:
        change("language", listing.language, check_language(language))
        listing.language = language
    themes_before = [t.slug for t in listing.themes]
    # Sets, written in order: the same themes or kinds sent in another order are no change.
    # (Both sorted here: the listing holds them in its database's order of slugs, which a
    # collation may make another than Python's.)
    change("themes", ",".join(sorted(themes_before)), ",".join(sorted(set(themes))))
    listing.title, listing.description = title.strip(), description.strip()
    listing.scope, listing.expires_on = scope, expires_on
    listing.themes = new_themes
    if listing.kind == ListingKind.CHALLENGE:
        change("deadline", listing.deadline, deadline)
        change(
            "sought_kinds",
            ",".join(sorted(listing.sought_kinds)),
            ",".join(sorted({k.value for k in sought_kinds})),
        )
        listing.deadline = deadline
        wanted = list(dict.fromkeys(sought_kinds))
        listing.sought = [s for s in listing.sought if s.kind in wanted] + [
            SoughtKind(kind=k) for k in wanted if k not in listing.sought_kinds
        ]
    if changes:
        bump_version(listing)
        record_event(f"{listing.kind.value}:update", actor=actor, subject=listing, details=changes)
        _changed(
            listing,
            "update",
            live_before=live_before,
            themes_before=themes_before,
            words_before=words_before,
        )
    return changes


ALLOWED_TRANSITIONS = {
    "pause": ({ListingStatus.OPEN}, ListingStatus.PAUSED),
    "reopen": ({ListingStatus.PAUSED, ListingStatus.CLOSED}, ListingStatus.OPEN),
    "close": ({ListingStatus.OPEN, ListingStatus.PAUSED}, ListingStatus.CLOSED),
}


def _refused(listing: Listing, action: str) -> str | None:
    """Why ``action`` cannot be done to ``listing`` now; None if it can."""
    sources, target = ALLOWED_TRANSITIONS[action]
    if listing.status not in sources:
        return _(
            "A listing that is %(status)s cannot be changed that way.",
            status=listing.status.label.lower(),
        )
    if (
        target == ListingStatus.OPEN
        and listing.kind == ListingKind.CHALLENGE
        and listing.organisation.kind != OrganisationKind.PUBLIC_AGENCY
    ):
        # Closed when the verified kind stopped being a public agency: it stays closed.
        return _("Only public agencies post challenges.")
    return None


def available_actions(listing: Listing) -> list[str]:
    """The status changes (pause, reopen, close) its members may make now: its page's buttons."""
    return [action for action in ALLOWED_TRANSITIONS if _refused(listing, action) is None]


def change_status(*, listing: Listing, actor: User | None, action: str) -> ListingStatus:
    refused = _refused(listing, action)
    if refused is not None:
        raise DomainError(refused)
    target = ALLOWED_TRANSITIONS[action][1]
    before, live_before = listing.status, listing.is_live()
    listing.status = target
    listing.closed_at = utcnow() if target == ListingStatus.CLOSED else None
    record_event(
        f"{listing.kind.value}:{action}",
        actor=actor,
        subject=listing,
        details={"before": before.value, "after": target.value},
    )
    _changed(
        listing, action, live_before=live_before, themes_before=[t.slug for t in listing.themes]
    )
    return target


def listings_of(organisation_ids: Sequence[int]) -> dict[int, list[Listing]]:
    """Every listing of these organisations, in every status, newest first."""
    grouped: dict[int, list[Listing]] = {oid: [] for oid in organisation_ids}
    if not organisation_ids:
        return grouped
    rows = db.session.scalars(
        sa.select(Listing)
        .where(Listing.organisation_id.in_(organisation_ids))
        .order_by(Listing.created_at.desc(), Listing.id.desc())
    )
    for listing in rows:
        grouped[listing.organisation_id].append(listing)
    return grouped
