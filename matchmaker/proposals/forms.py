from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from matchmaker.matching.settings import DEFAULTS, LABELS, LIMITS


class MatchingSettingsForm(FlaskForm):
    """One whole-number field per setting, built from matching/settings.py."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> MatchingSettingsForm:
        fields = {}
        for name, label in LABELS.items():
            low, high = LIMITS[name]
            fields[name] = IntegerField(
                label,
                validators=[InputRequired(), NumberRange(min=low, max=high)],
                description=f"{low}–{high}; default {getattr(DEFAULTS, name)}",
            )
        form_class = type("BoundMatchingSettingsForm", (cls,), fields)
        return form_class(*args, **kwargs)

    def values(self) -> dict[str, int]:
        return {name: self[name].data for name in LABELS}
