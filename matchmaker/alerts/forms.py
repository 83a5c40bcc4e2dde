from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from matchmaker.alerts.services import NAME_LENGTH
from matchmaker.core.forms import Form, SingleLine


class SavedSearchNameForm(Form):
    """Save the search shown, or rename a saved one: its name is all there is to fill in."""

    name = StringField(
        _l("Name of the search"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Give the search a name.")),
            # Mirrors the saved_searches.name column (String(80)).
            Length(max=NAME_LENGTH, message=_l("Keep the name under %(max)d characters.")),
        ],
        description=_l("For you alone, e.g. \u201cEvaluation in Liverpool\u201d."),
    )
