"""The interchange document: validation of every field, with each problem named by its place.

The format is described in docs/data-format.md. Validation reads the whole document and
returns every problem at once, so a file can be fixed in one go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email

from matchmaker.core.i18n import is_country_code
from matchmaker.core.text import has_control_characters
from matchmaker.core.words import DEFAULT_LANGUAGE, LANGUAGES
from matchmaker.listings.models import ListingKind, ListingStatus, Scope, Theme
from matchmaker.listings.services import DESCRIPTION_LENGTH, MAX_THEMES, TITLE_LENGTH
from matchmaker.organisations.models import OrganisationKind
from matchmaker.places import gazetteer

FORMAT = "sse-matchmaker/1"

# The fields of the format, in the order the CSV tables put their columns.
ORGANISATION_COLUMNS = (
    "ref",
    "name",
    "kind",
    "description",
    "website",
    "city",
    "region",
    "country",
    "geonames_id",
    "language",
)
CONTACT_COLUMNS = ("name", "position", "email", "phone")
LISTING_COLUMNS = (
    "ref",
    "organisation",
    "kind",
    "title",
    "description",
    "themes",
    "scope",
    "status",
    "expires_on",
    "sought_kinds",
    "deadline",
    "language",
)
ORGANISATION_FIELDS = {*ORGANISATION_COLUMNS, "contacts"}
CONTACT_FIELDS = set(CONTACT_COLUMNS)
LISTING_FIELDS = set(LISTING_COLUMNS)


# A file with a million mistakes is described by its first ones; keeping every one of them
# (and showing them on a page) would cost more memory than the import itself.
SHOWN_PROBLEMS = 100


class UnreadableFile(ValueError):
    """The file cannot be read as an interchange document (nothing is saved)."""


@dataclass
class Problems:
    items: list[tuple[str, str]] = field(default_factory=list)
    total: int = 0

    def add(self, path: str, message: str) -> None:
        self.total += 1
        if len(self.items) < SHOWN_PROBLEMS:
            self.items.append((path, message))

    def __bool__(self) -> bool:
        return self.total > 0

    def lines(self) -> list[str]:
        shown = [f"{path}: {message}" for path, message in self.items]
        if self.total > len(self.items):
            shown.append(
                f"... and {self.total - len(self.items)} more problem(s), {self.total} in all; "
                f"only the first {len(self.items)} are listed"
            )
        return shown


def _text(
    record: dict[str, Any],
    key: str,
    path: str,
    problems: Problems,
    *,
    required: bool = True,
    length: tuple[int, int] = (1, 200),
    multiline: bool = False,
) -> str | None:
    value = record.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.add(f"{path}.{key}", "is required")
        return None
    if not isinstance(value, str):
        problems.add(f"{path}.{key}", "must be text")
        return None
    value = value.strip()
    if not length[0] <= len(value) <= length[1]:
        problems.add(f"{path}.{key}", f"must have {length[0]} to {length[1]} characters")
        return None
    if not multiline and has_control_characters(value):
        # As in the forms (SingleLine): names end up in mail subjects and page titles.
        problems.add(f"{path}.{key}", "must be one line, without tabs or control characters")
        return None
    return value


def _choice(
    record: dict[str, Any],
    key: str,
    path: str,
    problems: Problems,
    allowed: list[str],
    required: bool = True,
) -> str | None:
    value = record.get(key)
    if value in (None, ""):
        if required:
            problems.add(f"{path}.{key}", "is required")
        return None
    if value not in allowed:
        problems.add(f"{path}.{key}", f'"{value}" is not one of {", ".join(allowed)}')
        return None
    return str(value)


def _date(record: dict[str, Any], key: str, path: str, problems: Problems) -> date | None:
    value = record.get(key)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.add(f"{path}.{key}", f'"{value}" is not a date like 2027-06-30')
        return None


def _place(
    record: dict[str, Any], clean: dict[str, Any], path: str, problems: Problems
) -> gazetteer.Place | None:
    """The organisation's city as a real place: by its GeoNames id when given, else by its
    name (in any language or script) in the organisation's country."""
    country = clean["country"]
    raw_id = record.get("geonames_id")
    if raw_id not in (None, ""):
        number = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        if isinstance(raw_id, str) and raw_id.strip().isascii() and raw_id.strip().isdigit():
            number = int(raw_id.strip()) if len(raw_id.strip()) <= 10 else None
        place = gazetteer.get(number) if number is not None else None
        if place is None:
            problems.add(
                f"{path}.geonames_id", f'"{raw_id}" is not the GeoNames id of a city we know'
            )
        elif place.country != country:
            problems.add(f"{path}.geonames_id", f"{place.name} ({raw_id}) is not in {country}")
            place = None
        elif not clean["city"]:
            clean["city"] = place.name
        return place
    if not clean["city"]:
        return None
    place = gazetteer.resolve(clean["city"], country)
    if place is None:
        problems.add(
            f"{path}.city",
            f'unknown place "{clean["city"]}" in {country}: check the spelling, write the '
            "name in another language, or give the city's geonames_id",
        )
    else:
        clean["city"] = gazetteer.written_name(clean["city"])
    return place


def _unknown(record: dict[str, Any], allowed: set[str], path: str, problems: Problems) -> None:
    for key in sorted(set(record) - allowed):
        problems.add(f"{path}.{key}", "unknown field")


def _list(record: dict[str, Any], key: str, path: str, problems: Problems) -> list[Any]:
    value = record.get(key, [])
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        problems.add(f"{path}.{key}", "must be a list")
        return []
    return value


def count_records(document: dict[str, Any]) -> int:
    """Organisations, their contacts and listings (whatever their shape)."""
    organisations = document.get("organisations")
    listings = document.get("listings")
    count = 0
    for items in (organisations, listings):
        if isinstance(items, list):
            count += len(items)
    if isinstance(organisations, list):
        for record in organisations:
            contacts = record.get("contacts") if isinstance(record, dict) else None
            if isinstance(contacts, list):
                count += len(contacts)
    return count


def validate_document(
    document: Any, themes: dict[str, Theme], *, max_records: int | None = None
) -> tuple[dict[str, Any], Problems]:
    """Check ``document``; return it cleaned (stripped text, parsed dates) and its problems.

    A document of more than ``max_records`` organisations, contacts and listings (when given)
    is refused before any of them is checked.
    """
    problems = Problems()
    if not isinstance(document, dict):
        problems.add("(document)", "must be a JSON object with organisations and listings")
        return {}, problems
    records = count_records(document)
    if max_records is not None and records > max_records:
        problems.add(
            "(document)",
            f"has {records} organisations, contacts and listings; at most {max_records} "
            "can be imported at once (split the file)",
        )
        return {}, problems
    _unknown(document, {"format", "organisations", "listings"}, "(document)", problems)
    if document.get("format", FORMAT) != FORMAT:
        problems.add("format", f'"{document.get("format")}" is not supported; use "{FORMAT}"')

    organisations: list[dict[str, Any]] = []
    kinds_by_ref: dict[str, str] = {}
    for index, record in enumerate(_list(document, "organisations", "(document)", problems)):
        path = f"organisations[{index}]"
        if not isinstance(record, dict):
            problems.add(path, "must be an object")
            continue
        _unknown(record, ORGANISATION_FIELDS, path, problems)
        clean: dict[str, Any] = {
            "ref": _text(record, "ref", path, problems, length=(1, 100)),
            "name": _text(record, "name", path, problems),
            "kind": _choice(record, "kind", path, problems, [k.value for k in OrganisationKind]),
            "description": _text(
                record, "description", path, problems, length=(1, 5000), multiline=True
            ),
            "website": _text(record, "website", path, problems, required=False, length=(1, 500)),
            "city": _text(
                record,
                "city",
                path,
                problems,
                length=(1, 100),
                required="geonames_id" not in record,
            ),
            "region": _text(record, "region", path, problems, length=(1, 100)),
            "country": _text(record, "country", path, problems, length=(2, 2)),
            # None when not given: the import decides (matchmaker/interchange/services.py).
            "language": _choice(
                record, "language", path, problems, list(LANGUAGES), required=False
            ),
            "place": None,
            "contacts": [],
        }
        if clean["country"] and not is_country_code(clean["country"]):
            problems.add(
                f"{path}.country", f'"{clean["country"]}" is not an ISO 3166-1 alpha-2 country code'
            )
        elif clean["country"]:
            clean["place"] = _place(record, clean, path, problems)
        if clean["website"] and not clean["website"].startswith(("http://", "https://")):
            problems.add(f"{path}.website", "must start with http:// or https://")
        if clean["ref"] in kinds_by_ref:
            problems.add(f"{path}.ref", f'"{clean["ref"]}" is used twice')
        elif clean["ref"]:
            kinds_by_ref[clean["ref"]] = clean["kind"] or ""
        for c_index, contact in enumerate(_list(record, "contacts", path, problems)):
            c_path = f"{path}.contacts[{c_index}]"
            if not isinstance(contact, dict):
                problems.add(c_path, "must be an object")
                continue
            _unknown(contact, CONTACT_FIELDS, c_path, problems)
            email = _text(contact, "email", c_path, problems, required=False, length=(3, 254))
            if email:
                try:
                    email = validate_email(email, check_deliverability=False).normalized.lower()
                except EmailNotValidError:
                    problems.add(f"{c_path}.email", f'"{email}" is not an email address')
            clean["contacts"].append(
                {
                    "name": _text(contact, "name", c_path, problems, length=(1, 120)),
                    "position": _text(contact, "position", c_path, problems, required=False) or "",
                    "email": email,
                    "phone": _text(
                        contact, "phone", c_path, problems, required=False, length=(1, 40)
                    ),
                }
            )
        organisations.append(clean)

    listings: list[dict[str, Any]] = []
    listing_refs: set[str] = set()
    for index, record in enumerate(_list(document, "listings", "(document)", problems)):
        path = f"listings[{index}]"
        if not isinstance(record, dict):
            problems.add(path, "must be an object")
            continue
        _unknown(record, LISTING_FIELDS, path, problems)
        kind = _choice(record, "kind", path, problems, [k.value for k in ListingKind])
        clean = {
            "ref": _text(record, "ref", path, problems, length=(1, 100)),
            "organisation": _text(record, "organisation", path, problems, length=(1, 100)),
            "kind": kind,
            "title": _text(record, "title", path, problems, length=TITLE_LENGTH),
            "description": _text(
                record, "description", path, problems, length=DESCRIPTION_LENGTH, multiline=True
            ),
            "scope": _choice(record, "scope", path, problems, [s.value for s in Scope]),
            "status": _choice(
                record, "status", path, problems, [s.value for s in ListingStatus], required=False
            )
            or "open",
            "expires_on": _date(record, "expires_on", path, problems),
            "deadline": _date(record, "deadline", path, problems),
            "language": _choice(record, "language", path, problems, list(LANGUAGES), required=False)
            or DEFAULT_LANGUAGE,
            "themes": [],
            "sought_kinds": [],
        }
        if clean["ref"] in listing_refs:
            problems.add(f"{path}.ref", f'"{clean["ref"]}" is used twice')
        elif clean["ref"]:
            listing_refs.add(clean["ref"])
        organisation = clean["organisation"]
        if organisation and organisation not in kinds_by_ref:
            problems.add(f"{path}.organisation", f'no organisation with ref "{organisation}"')
        theme_slugs = _list(record, "themes", path, problems)
        if not theme_slugs:
            problems.add(f"{path}.themes", "needs 1 to 3 themes")
        elif len(theme_slugs) > MAX_THEMES:
            problems.add(f"{path}.themes", f"has {len(theme_slugs)} themes; at most {MAX_THEMES}")
        for t_index, slug in enumerate(theme_slugs):
            theme = themes.get(slug) if isinstance(slug, str) else None
            if theme is None:
                problems.add(f"{path}.themes[{t_index}]", f'unknown theme "{slug}"')
            elif theme.is_retired:
                problems.add(f"{path}.themes[{t_index}]", f'theme "{slug}" is retired')
            else:
                clean["themes"].append(slug)
        sought = _list(record, "sought_kinds", path, problems)
        if kind == ListingKind.CHALLENGE.value:
            if not sought:
                problems.add(
                    f"{path}.sought_kinds", "a challenge needs the kinds of partner it seeks"
                )
            if record.get("deadline") in (None, ""):
                problems.add(f"{path}.deadline", "a challenge needs a deadline")
            if organisation in kinds_by_ref and kinds_by_ref[organisation] != "public_agency":
                problems.add(f"{path}.kind", "only a public_agency organisation posts challenges")
        else:
            if sought:
                problems.add(f"{path}.sought_kinds", "only challenges seek kinds of partner")
            if record.get("deadline"):
                problems.add(f"{path}.deadline", "only challenges have a deadline")
        allowed_kinds = [k.value for k in OrganisationKind]
        for s_index, value in enumerate(sought):
            if value not in allowed_kinds:
                problems.add(
                    f"{path}.sought_kinds[{s_index}]",
                    f'"{value}" is not one of {", ".join(allowed_kinds)}',
                )
            else:
                clean["sought_kinds"].append(value)
        listings.append(clean)

    return {"organisations": organisations, "listings": listings}, problems
