from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Optional, Regexp, ValidationError

from matchmaker.core.caching import shared_fragment
from matchmaker.core.forms import (
    FilterChoiceField,
    Form,
    LanguageField,
    MultiLine,
    SingleLine,
    length,
)
from matchmaker.listings.models import (
    SCOPE_LABELS,
    STATUS_LABELS,
    ListingKind,
    Theme,
    labelled_themes,
)
from matchmaker.listings.search import (
    STATUS_FILTERS,
    ListingFilters,
    countries_with_listings,
    theme_filter_choices,
)
from matchmaker.listings.services import (
    DESCRIPTION_LENGTH,
    MAX_THEMES,
    TITLE_LENGTH,
    new_submission_key,
)
from matchmaker.organisations.forms import country_filter_choices, kind_choices


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (rendered inside a fieldset)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def theme_choices(themes: list[Theme]) -> dict[str, str]:
    return labelled_themes((theme.slug, theme.name) for theme in themes)


def check_theme_count(field: MultiCheckboxField) -> None:
    """1 to MAX_THEMES themes (the service checks again: see resolve_themes)."""
    if not field.data:
        raise ValidationError(_l("Choose at least one theme."))
    if len(field.data) > MAX_THEMES:
        raise ValidationError(_l("Choose at most %(n)d themes.", n=MAX_THEMES))


class ListingForm(Form):
    # A new key each time the empty form is shown; sending the same form again reuses it.
    submission_key = HiddenField(default=new_submission_key)
    # The version of the listing the edit form was read at (core/versions.py); empty on a new one.
    version = HiddenField()
    title = StringField(
        _l("Title"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Give the listing a title.")),
            # Mirrors the listings.title column (String(120)).
            length(min=TITLE_LENGTH[0], max=TITLE_LENGTH[1]),
        ],
        description=_l(
            "A short sentence, e.g. \u201cEvaluation of our work-integration programme\u201d."
        ),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            DataRequired(message=_l("Describe what you need or offer.")),
            length(min=DESCRIPTION_LENGTH[0], max=DESCRIPTION_LENGTH[1]),
            MultiLine(),
        ],
        description=_l("What, for whom, when, and what a partner would bring or get."),
    )
    themes = MultiCheckboxField(
        _l("Themes"),
        description=_l("Choose 1 to 3 themes."),
    )
    scope = SelectField(
        _l("Where partners may be"),
        validators=[DataRequired(message=_l("Choose a scope."))],
    )
    expires_on = DateField(
        _l("Expires on"),
        validators=[Optional()],
        description=_l("Optional. After this day the listing is shown as expired."),
    )
    language = LanguageField(
        _l("Language"), description=_l("The language the title and description are written in.")
    )

    def __init__(self, *args: Any, themes: list[Theme], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.themes.choices = theme_choices(themes)
        self.scope.choices = {"": str(_l("Choose…"))} | {
            scope.value: str(label) for scope, label in SCOPE_LABELS.items()
        }

    def validate_themes(self, field: MultiCheckboxField) -> None:
        check_theme_count(field)


class ChallengeForm(ListingForm):
    sought_kinds = MultiCheckboxField(
        _l("Kinds of partner sought"),
        description=_l("Choose every kind of organisation you would like to work with."),
    )
    deadline = DateField(
        _l("Deadline"),
        validators=[DataRequired(message=_l("Give the challenge a deadline."))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sought_kinds.choices = kind_choices()
        del self.expires_on

    def validate_sought_kinds(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one kind of partner."))


class ListingFilterForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[SingleLine(), Optional(), length(max=200)])
    theme = FilterChoiceField(_l("Theme"))
    organisation_kind = FilterChoiceField(_l("Kind of organisation"))
    country = FilterChoiceField(_l("Country"))
    region = StringField(_l("Region"), validators=[SingleLine(), Optional(), length(max=100)])
    scope = FilterChoiceField(_l("Scope"))
    status = FilterChoiceField(_l("Status"))
    sort = FilterChoiceField(_l("Sort by"))

    def __init__(
        self,
        *args: Any,
        themes: Mapping[str, str],
        countries: Collection[str],
        challenges: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.theme.choices = {"": str(_l("All themes"))} | dict(themes)
        self.organisation_kind.choices = kind_choices(blank=str(_l("All kinds")))
        self.country.choices = country_filter_choices(
            str(_l("All countries")), countries, self.country.data
        )
        self.scope.choices = {"": str(_l("Any scope"))} | {
            scope.value: str(label) for scope, label in SCOPE_LABELS.items()
        }
        status_labels = {status.value: str(label) for status, label in STATUS_LABELS.items()}
        status_labels["expired"] = str(_l("Expired"))
        status_labels["all"] = str(_l("Any status"))
        self.status.choices = {value: status_labels[value] for value in STATUS_FILTERS}
        sorts = {"": str(_l("Best first")), "newest": str(_l("Newest"))}
        if challenges:
            sorts["deadline"] = str(_l("Deadline"))
        sorts["relevance"] = str(_l("Relevance"))
        self.sort.choices = sorts

    def filters(self, kind: ListingKind) -> ListingFilters:
        """What the validated form asks for, as the search takes it."""
        return ListingFilters(
            kind=kind,
            q=self.q.data or "",
            theme=self.theme.data or "",
            organisation_kind=self.organisation_kind.data or "",
            country=self.country.data or "",
            region=self.region.data or "",
            scope=self.scope.data or "",
            status=self.status.data or "open",
            sort=self.sort.data or "",
        )


class ThemeForm(Form):
    slug = StringField(
        _l("Short name"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Give the theme a short name.")),
            length(max=64),
            Regexp(
                r"^[a-z0-9]+(-[a-z0-9]+)*$",
                message=_l("Use lower-case letters, digits and hyphens, e.g. circular-economy."),
            ),
        ],
        description=_l("Used in links and files; it cannot change later."),
    )
    name = StringField(
        _l("Name"),
        validators=[
            SingleLine(),
            DataRequired(message=_l("Give the theme a name.")),
            length(max=120),
        ],
    )
    description = TextAreaField(
        _l("Description"), validators=[Optional(), MultiLine(), length(max=1000)]
    )


class EditThemeForm(ThemeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.slug


def listing_filter_form(args: Mapping[str, str], kind: ListingKind) -> ListingFilterForm:
    """The search page's filters read from ``args``, offering the themes and countries that
    occur (and any other one asked for, so a saved search may wait for a first listing)."""
    return ListingFilterForm(
        args,
        themes=theme_filter_choices(args.get("theme", "").strip()),
        countries=shared_fragment("countries-with-listings", countries_with_listings),
        challenges=kind == ListingKind.CHALLENGE,
    )
