from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.accounts.models import User
from matchmaker.db import TimestampMixin, UpdatedMixin
from matchmaker.extensions import db


class Territory(UpdatedMixin, db.Model):  # type: ignore[name-defined]
    """A region with its own platform. Its organisations are those whose city lies in one of
    its subdivisions (ISO 3166-2, e.g. GR-I for Attica) or is one of its cities (GeoNames ids,
    for a city-region that no subdivision draws, such as Liverpool City Region)."""

    __tablename__ = "territories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # A code from the LANGUAGES setting: the language its visitors and members get unless they
    # chose one.
    language: Mapped[str] = mapped_column(sa.String(8))
    subdivisions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    geonames_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)

    appointments: Mapped[list[TerritoryCoordinator]] = relationship(
        back_populates="territory",
        cascade="all, delete-orphan",
        order_by="TerritoryCoordinator.created_at",
    )

    def __repr__(self) -> str:
        return f"<Territory {self.id} {self.slug}>"


class TerritoryCoordinator(TimestampMixin, db.Model):  # type: ignore[name-defined]
    """A coordinator appointed to a territory: their queues, dashboard, exports and audit
    trail cover its organisations only. A coordinator with no appointment sees everything."""

    __tablename__ = "territory_coordinators"

    territory_id: Mapped[int] = mapped_column(
        sa.ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    territory: Mapped[Territory] = relationship(back_populates="appointments")
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<TerritoryCoordinator territory={self.territory_id} user={self.user_id}>"
