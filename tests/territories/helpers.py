from __future__ import annotations

from matchmaker.accounts.models import Role, User
from matchmaker.extensions import db
from matchmaker.organisations.models import Organisation
from matchmaker.territories.models import Territory, TerritoryCoordinator
from tests.factories import make_organisation, make_user

ATHENS_LIKE = {"city": "Athens", "region": "Attica", "country": "GR"}


def make_territory(
    *,
    slug: str = "attica",
    name: str = "Attica",
    language: str = "el",
    subdivisions: tuple[str, ...] = ("GR-I",),
    geonames_ids: tuple[int, ...] = (),
) -> Territory:
    territory = Territory(
        slug=slug,
        name=name,
        language=language,
        subdivisions=list(subdivisions),
        geonames_ids=list(geonames_ids),
    )
    db.session.add(territory)
    db.session.commit()
    return territory


def make_city_region() -> Territory:
    """Liverpool City Region as the demo draws it, here with Liverpool alone."""
    return make_territory(
        slug="lcr",
        name="Liverpool City Region",
        language="en",
        subdivisions=(),
        geonames_ids=(2644210,),
    )


def make_territorial_coordinator(territory: Territory, **fields: object) -> User:
    user = make_user(role=Role.COORDINATOR, **fields)  # type: ignore[arg-type]
    db.session.add(TerritoryCoordinator(territory_id=territory.id, user_id=user.id))
    db.session.commit()
    return user


def athens_organisation(**fields: object) -> Organisation:
    return make_organisation(**(ATHENS_LIKE | fields))  # type: ignore[arg-type]
