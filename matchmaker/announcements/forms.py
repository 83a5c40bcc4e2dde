from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from matchmaker.announcements.models import AUDIENCE_LABELS, KIND_LABELS
from matchmaker.announcements.services import BODY_LENGTH, LINK_LENGTH, TITLE_LENGTH
from matchmaker.core.forms import FilterChoiceField, Form, MultiLine, SingleLine
from matchmaker.listings.forms import MultiCheckboxField, check_theme_count, theme_choices
from matchmaker.listings.models import Theme
from matchmaker.organisations.forms import country_select_choices
from matchmaker.organisations.models import Organisation
from matchmaker.territories.models import Territory

# The organisation choice of a coordinator who posts for no organisation.
NO_ORGANISATION = "0"


def kind_choices(blank: str | None = None) -> dict[str, str]:
    choices = {kind.value: str(label) for kind, label in KIND_LABELS.items()}
    return {"": blank, **choices} if blank is not None else choices


def audience_choices(blank: str | None = None) -> dict[str, str]:
    choices = {audience.value: str(label) for audience, label in AUDIENCE_LABELS.items()}
    return {"": blank, **choices} if blank is not None else choices


class AnnouncementForm(Form):
    # Its own message: a listing's "Posted by" agrees with the listing, which in French is an
    # annonce (feminine), and an announcement is a communiqué (masculine).
    organisation = SelectField(lazy_pgettext("announcement", "Posted by"))
    country = SelectField(
        _l("Country"),
        validators=[Optional()],
        description=_l("Only when posting for the coordination team: who it is for."),
    )
    kind = SelectField(
        _l("Kind of announcement"),
        validators=[InputRequired(message=_l("Choose the kind of announcement."))],
    )
    title = StringField(
        _l("Title"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Give the announcement a title.")),
            # Mirrors the announcements.title column (String(120)).
            Length(
                min=TITLE_LENGTH[0],
                max=TITLE_LENGTH[1],
                message=_l("The title needs 5 to 120 characters."),
            ),
        ],
        description=_l("e.g. \u201cCall for social innovation projects, spring round\u201d."),
    )
    body = TextAreaField(
        _l("Text"),
        validators=[
            DataRequired(message=_l("Say what the announcement is about.")),
            Length(
                min=BODY_LENGTH[0],
                max=BODY_LENGTH[1],
                message=_l("The text needs 20 to 5,000 characters."),
            ),
            MultiLine(),
        ],
        description=_l("Who may apply or take part, what it offers, and how to respond."),
    )
    themes = MultiCheckboxField(_l("Themes"), description=_l("Choose 1 to 3 themes."))
    audience = SelectField(
        _l("For whom"),
        validators=[InputRequired(message=_l("Choose who the announcement is for."))],
        description=_l(
            "Project developers: SSE organisations and civil society. Policy makers: public "
            "agencies and academic institutions."
        ),
    )
    ends_on = DateField(
        _l("End date"),
        # InputRequired, not DataRequired: a date that cannot be read keeps its own message.
        validators=[InputRequired(message=_l("Give the announcement an end date."))],
        description=_l("The last day it is shown (a deadline, or the day of the event)."),
    )
    link = StringField(
        _l("Web address"),
        validators=[
            SingleLine(),
            Optional(),
            # Mirrors the announcements.link column (String(500)).
            Length(max=LINK_LENGTH, message=_l("Keep the web address under %(max)d characters.")),
        ],
        description=_l("Optional. Where to read more or apply, starting with https://."),
    )
    region_only = BooleanField(_l("Only for organisations in our region"))
    territory = SelectField(
        _l("Territory"),
        default="",
        description=_l("Kept to a territory, it reaches that territory's organisations only."),
    )

    def __init__(
        self,
        *args: Any,
        themes: list[Theme],
        organisations: list[Organisation] | None,
        may_post_for_no_organisation: bool = False,
        territories: list[Territory] | None = None,
        territory_required: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = kind_choices(blank=str(_l("Choose…")))
        self.audience.choices = audience_choices(blank=str(_l("Choose…")))
        self.themes.choices = theme_choices(themes)
        if organisations is None:  # editing: who posted it, and where it goes, do not change
            del self.organisation
            del self.country
            del self.territory
            return
        places = {} if territory_required else {"": str(_l("No territory"))}
        places |= {str(t.id): t.name for t in territories or []}
        self.territory.choices = places
        self.territory.validators = [
            AnyOf(list(places), message=_l("Choose one of the listed territories."))
        ]
        choices = {str(o.id): o.name for o in organisations}
        if may_post_for_no_organisation:
            choices[NO_ORGANISATION] = str(_l("The coordination team"))
            self.country.choices = country_select_choices(str(_l("Choose…")))
        else:
            del self.country
        self.organisation.choices = choices
        self.organisation.validators = [
            AnyOf(list(choices), message=_l("Choose who posts the announcement."))
        ]

    def validate_themes(self, field: MultiCheckboxField) -> None:
        check_theme_count(field)


class AnnouncementFilterForm(Form):
    class Meta:
        csrf = False

    theme = FilterChoiceField(_l("Theme"))
    kind = FilterChoiceField(_l("Kind"))
    audience = FilterChoiceField(_l("For whom"))

    def __init__(self, *args: Any, themes: list[Theme], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.theme.choices = {"": str(_l("All themes"))} | theme_choices(themes)
        self.kind.choices = kind_choices(blank=str(_l("All kinds")))
        self.audience.choices = audience_choices(blank=str(_l("Anyone")))
