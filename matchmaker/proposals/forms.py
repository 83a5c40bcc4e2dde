from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from matchmaker.core.forms import (
    FilterChoiceField,
    Form,
    MultiLine,
    SingleLine,
    length,
    number_range,
)
from matchmaker.matching.settings import DEFAULTS, LABELS, LIMITS
from matchmaker.organisations.forms import country_filter_choices, kind_choices
from matchmaker.proposals.models import OUTCOME_LABELS, REJECTION_LABELS


class MatchingSettingsForm(Form):
    """One whole-number field per setting, built from matching/settings.py."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> MatchingSettingsForm:
        fields = {}
        defaults = DEFAULTS.as_dict()
        for name, label in LABELS.items():
            low, high = LIMITS[name]
            fields[name] = IntegerField(
                label,
                validators=[InputRequired(message=_l("Give a number.")), number_range(low, high)],
                description=_l(
                    "%(low)s–%(high)s; default %(default)s",
                    low=low,
                    high=high,
                    default=defaults[name],
                ),
            )
        form_class = type("BoundMatchingSettingsForm", (cls,), fields)
        return form_class(*args, **kwargs)

    def values(self) -> dict[str, int]:
        return {name: self[name].data for name in LABELS}


class ApproveForm(Form):
    version = HiddenField()
    note = TextAreaField(
        _l("Note to the parties (optional)"),
        validators=[Optional(), MultiLine(), length(max=2000)],
        description=_l("Why you think they should talk; it goes in the introduction email."),
    )


class RejectForm(Form):
    version = HiddenField()
    reason = SelectField(_l("Reason"), validators=[InputRequired(message=_l("Choose a reason."))])
    note = TextAreaField(
        _l("More detail (optional)"), validators=[Optional(), MultiLine(), length(max=2000)]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = {"": str(_l("Choose a reason…"))} | {
            r.value: str(label) for r, label in REJECTION_LABELS.items()
        }


class RespondForm(Form):
    message = TextAreaField(
        _l("Message to the other parties"),
        validators=[Optional(), MultiLine(), length(max=2000)],
        description=_l("Optional when you accept; please say why when you decline."),
    )
    show_publicly = BooleanField(
        _l("When everyone accepts, the home page may show this partnership"),
        description=_l(
            "Only the organisations' names and the themes, and only if every party agrees; "
            "never contact details or messages."
        ),
    )


class OutcomeForm(Form):
    kind = SelectField(
        _l("What happened"), validators=[InputRequired(message=_l("Choose what happened."))]
    )
    happened_on = DateField(_l("When"), validators=[InputRequired(message=_l("Give the date."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), MultiLine(), length(max=2000)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = {k.value: str(label) for k, label in OUTCOME_LABELS.items()}


class QueueFilterForm(Form):
    class Meta:
        csrf = False

    template = FilterChoiceField(_l("Template"))
    theme = FilterChoiceField(_l("Theme"))
    country = FilterChoiceField(_l("Country"))
    region = StringField(_l("Region"), validators=[SingleLine(), Optional(), length(max=100)])
    organisation_kind = FilterChoiceField(_l("Kind of organisation"))
    min_score = IntegerField(_l("Minimum score"), validators=[Optional(), number_range(0, 100)])

    def __init__(
        self,
        *args: Any,
        templates: dict[str, str],
        themes: Mapping[str, str],
        countries: Collection[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.template.choices = {"": str(_l("All templates"))} | templates
        self.theme.choices = {"": str(_l("All themes"))} | dict(themes)
        self.country.choices = country_filter_choices(
            str(_l("All countries")), countries, self.country.data
        )
        self.organisation_kind.choices = kind_choices(blank=str(_l("All kinds")))


class IntroductionRequestForm(Form):
    """I'm interested: which of our listings this is about, and a short message."""

    listing = SelectField(
        _l("On behalf of"),
        coerce=int,
        validators=[InputRequired(message=_l("Choose one of your organisation's listings."))],
        description=_l("The coordinators introduce this listing of yours to the one you saw."),
    )
    message = TextAreaField(
        _l("Message to the coordinators"),
        validators=[
            InputRequired(message=_l("Say in a few words why you are interested.")),
            Length(max=1000, message=_l("Keep the message under 1,000 characters.")),
            MultiLine(),
        ],
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listing.choices = choices
