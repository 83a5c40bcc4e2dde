"""Matching settings: rule weights, the multi-party bonus, the minimum score and the cap per
listing.

Defaults live here and in the rule registry (matching/rules.py: each rule's default weight);
coordinators' changes are stored in ``matching_settings``. Weights are relative: only their
proportions count (matching/scoring.py turns them into points out of 100).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.extensions import db
from matchmaker.matching.models import MatchingSetting
from matchmaker.matching.rules import RULES

OTHER_DEFAULTS = {"role_coverage": 15, "min_score": 40, "max_proposals_per_listing": 5}


@dataclass(frozen=True)
class MatchSettings:
    # Each rule's weight (matching/rules.py), relative to the others'; in the registry's order.
    weights: tuple[tuple[str, int], ...] = tuple((r.name, r.weight) for r in RULES.values())
    # Points a multi-party proposal gets for filling every role (the rules share the rest).
    role_coverage: int = OTHER_DEFAULTS["role_coverage"]
    min_score: int = OTHER_DEFAULTS["min_score"]
    max_proposals_per_listing: int = OTHER_DEFAULTS["max_proposals_per_listing"]

    @classmethod
    def of(cls, **values: int) -> MatchSettings:
        """The defaults, with ``values`` changed: rule weights by the rule's name, or the
        settings above by theirs."""
        unknown = set(values) - set(LABELS)
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        weights = tuple((name, int(values.get(name, weight))) for name, weight in DEFAULT_WEIGHTS)
        others = {k: int(v) for k, v in values.items() if k in OTHER_DEFAULTS}
        return cls(weights, **others)

    def weight(self, rule: str) -> int:
        return dict(self.weights).get(rule, 0)

    def as_dict(self) -> dict[str, int]:
        """Every setting by name: each rule's weight, then the others."""
        return dict(self.weights) | {name: getattr(self, name) for name in OTHER_DEFAULTS}


DEFAULTS = MatchSettings()
DEFAULT_WEIGHTS = DEFAULTS.weights

# The settings form's fields: one per rule (from the registry), then the others.
LABELS = {name: rule.label for name, rule in RULES.items()} | {
    "role_coverage": _l("Multi-party: points for filling every role"),
    "min_score": _l("Minimum score to propose"),
    "max_proposals_per_listing": _l("Most live proposals per listing"),
}
LIMITS = {name: (0, 100) for name in LABELS} | {"max_proposals_per_listing": (1, 50)}


def validate(values: dict[str, Any]) -> MatchSettings:
    """Settings from ``values``; raises DomainError naming the first field that is wrong."""
    defaults = DEFAULTS.as_dict()
    clean: dict[str, int] = {}
    for name in LABELS:
        raw = values.get(name, defaults[name])
        try:
            number = int(raw)
        except (TypeError, ValueError) as error:
            raise DomainError(str(_l("Enter a whole number.")), name) from error
        low, high = LIMITS[name]
        if not low <= number <= high:
            raise DomainError(
                str(_l("Enter a number from %(low)d to %(high)d.", low=low, high=high)), name
            )
        clean[name] = number
    if not any(clean[name] for name in RULES):
        raise DomainError(str(_l("At least one rule needs some weight.")), next(iter(RULES)))
    return MatchSettings.of(**clean)


# Made once: every incremental run reads the settings.
_STORED = sa.select(MatchingSetting.key, MatchingSetting.value)


def load_settings() -> MatchSettings:
    stored: dict[str, float] = dict(db.session.execute(_STORED).all())
    # A stored weight of a rule that no longer exists is ignored.
    return MatchSettings.of(**{k: int(v) for k, v in stored.items() if k in LABELS})


def save_settings(*, settings: MatchSettings, actor: Any) -> dict[str, list[int]]:
    """Store what differs from the current settings; record the change. Returns the changes."""
    before = load_settings()
    old, new_values = before.as_dict(), settings.as_dict()
    changes = {
        name: [old[name], new_values[name]] for name in new_values if old[name] != new_values[name]
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
