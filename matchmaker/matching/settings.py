"""Matching settings: rule weights, the minimum score and the cap per listing.

Defaults live here; coordinators' changes are stored in ``matching_settings``. The weights of
the pair rules add up to at most 100, so a score reads as a percentage and the explanation's
points always add up to it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.extensions import db
from matchmaker.matching.models import MatchingSetting


@dataclass(frozen=True)
class MatchSettings:
    # Points each rule can give at most (pair rules; they add up to at most 100).
    shared_themes: int = 30
    proximity: int = 15
    complementary_kinds: int = 20
    sought_kind: int = 10
    mutual: int = 15
    shared_words: int = 10
    # Bonus for a multi-party proposal that fills every role (the pair rules are scaled down
    # to leave room for it).
    role_coverage: int = 15
    # Thresholds
    min_score: int = 40
    max_proposals_per_listing: int = 5

    @cached_property
    def pair_total(self) -> int:
        return sum(getattr(self, name) for name in PAIR_RULE_WEIGHTS)

    @cached_property
    def pair_weights(self) -> tuple[tuple[str, int], ...]:
        """The pair rules that count (weight above 0), in order."""
        return tuple((n, getattr(self, n)) for n in PAIR_RULE_WEIGHTS if getattr(self, n))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def __hash__(self) -> int:
        # Hashed once: the matcher looks its scaled rules up by settings, many times a run.
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return hash(tuple(asdict(self).items()))


PAIR_RULE_WEIGHTS = (
    "shared_themes",
    "proximity",
    "complementary_kinds",
    "sought_kind",
    "mutual",
    "shared_words",
)
DEFAULTS = MatchSettings()

LABELS = {
    "shared_themes": _l("Shared themes (rarer themes count more)"),
    "proximity": _l("Proximity (same city > same region > same country)"),
    "complementary_kinds": _l("Complementary kinds of organisation"),
    "sought_kind": _l("A challenge's sought kind of partner"),
    "mutual": _l("Mutual exchange (each offers what the other needs)"),
    "shared_words": _l("Shared significant words"),
    "role_coverage": _l("Multi-party: every role filled"),
    "min_score": _l("Minimum score to propose"),
    "max_proposals_per_listing": _l("Most live proposals per listing"),
}
LIMITS = {name: (0, 100) for name in LABELS} | {"max_proposals_per_listing": (1, 50)}


def validate(values: dict[str, Any]) -> MatchSettings:
    """Settings from ``values``; raises DomainError naming the first field that is wrong."""
    clean: dict[str, int] = {}
    for item in fields(MatchSettings):
        raw = values.get(item.name, getattr(DEFAULTS, item.name))
        try:
            number = int(raw)
        except (TypeError, ValueError) as error:
            raise DomainError(str(_l("Enter a whole number.")), item.name) from error
        low, high = LIMITS[item.name]
        if not low <= number <= high:
            raise DomainError(
                str(_l("Enter a number from %(low)d to %(high)d.", low=low, high=high)),
                item.name,
            )
        clean[item.name] = number
    settings = MatchSettings(**clean)
    if settings.pair_total > 100:
        raise DomainError(
            str(
                _l(
                    "The rule weights add up to %(total)d; they may add up to 100 at most, so a "
                    "score stays a percentage.",
                    total=settings.pair_total,
                )
            ),
            "shared_themes",
        )
    if settings.pair_total == 0:
        raise DomainError(str(_l("At least one rule needs some weight.")), "shared_themes")
    return settings


def load_settings() -> MatchSettings:
    stored = {row.key: row.value for row in db.session.scalars(sa.select(MatchingSetting))}
    known = {item.name for item in fields(MatchSettings)}
    return replace(DEFAULTS, **{k: int(v) for k, v in stored.items() if k in known})


def save_settings(*, settings: MatchSettings, actor: Any) -> dict[str, list[int]]:
    """Store what differs from the current settings; record the change. Returns the changes."""
    before = load_settings()
    changes = {
        name: [getattr(before, name), getattr(settings, name)]
        for name in settings.as_dict()
        if getattr(before, name) != getattr(settings, name)
    }
    for name, (_old, new) in changes.items():
        row = db.session.get(MatchingSetting, name)
        if row is None:
            db.session.add(MatchingSetting(key=name, value=new, updated_by_id=actor.id))
        else:
            row.value, row.updated_by_id = new, actor.id
    if changes:
        record_event("settings:matching", actor=actor, subject=None, details=changes)
    return changes
