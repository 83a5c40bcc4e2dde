from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.accounts.models import User
from matchmaker.db import TimestampMixin, UpdatedMixin, str_enum
from matchmaker.extensions import db
from matchmaker.listings.models import ListingKind


class SavedSearch(UpdatedMixin, db.Model):  # type: ignore[name-defined]
    """A search of one kind of listing (words and filters, as on its page) kept by a member,
    who is told of new listings that match it unless it is paused."""

    __tablename__ = "saved_searches"
    __table_args__ = (
        sa.Index("ix_saved_searches_user_id", "user_id"),
        sa.Index("ix_saved_searches_kind_is_paused", "kind", "is_paused"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(80))
    kind: Mapped[ListingKind] = mapped_column(str_enum(ListingKind))
    # The filters of the search page; empty means "any". Lengths mirror ListingFilterForm.
    q: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    theme: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    organisation_kind: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")
    country: Mapped[str] = mapped_column(sa.String(2), default="", server_default="")
    region: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    scope: Mapped[str] = mapped_column(sa.String(32), default="", server_default="")
    is_paused: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<SavedSearch {self.id} user={self.user_id} {self.name!r}>"


class SavedSearchAlert(TimestampMixin, db.Model):  # type: ignore[name-defined]
    """A listing a saved search has told its owner of: never twice (a listing reopened, or a
    job run again, does not alert again)."""

    __tablename__ = "saved_search_alerts"
    __table_args__ = (sa.Index("ix_saved_search_alerts_listing_id", "listing_id"),)

    saved_search_id: Mapped[int] = mapped_column(
        sa.ForeignKey("saved_searches.id", ondelete="CASCADE"), primary_key=True
    )
    listing_id: Mapped[int] = mapped_column(
        sa.ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True
    )

    def __repr__(self) -> str:
        return f"<SavedSearchAlert search={self.saved_search_id} listing={self.listing_id}>"
