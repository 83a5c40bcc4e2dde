"""The keyset condition: compared as a row (the fast form) it selects what the plain form
spelled out selects."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from matchmaker.core.paging import Key, _row_after, _spelled_out_after
from matchmaker.extensions import db
from matchmaker.organisations.models import Organisation
from tests.factories import make_organisation


def test_a_row_comparison_selects_what_the_spelled_out_condition_selects(app: Flask) -> None:
    # Names repeat (in other countries), so the id decides between them.
    for country in ("GB", "IE", "FR"):
        for number in range(4):
            make_organisation(name=f"Co-op {number}", country=country)
    organisations = list(db.session.scalars(sa.select(Organisation)))
    for descending in (False, True):
        keys = [Key(Organisation.name, descending), Key(Organisation.id, descending)]
        for point in organisations:
            values = [point.name, point.id]

            def ids(condition: object) -> set[int]:
                return set(db.session.scalars(sa.select(Organisation.id).where(condition)))

            fast, plain = ids(_row_after(keys, values)), ids(_spelled_out_after(keys, values))
            assert fast == plain, (descending, point)
            assert point.id not in fast
