"""Import and export of organisations and listings in the interchange format (JSON or CSV)."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from matchmaker.accounts.models import User
from matchmaker.core.audit import record_event
from matchmaker.core.words import DEFAULT_LANGUAGE
from matchmaker.db import utcnow
from matchmaker.extensions import db
from matchmaker.interchange.document import FORMAT, Problems, validate_document
from matchmaker.listings.models import Listing, ListingKind, ListingStatus, Scope, SoughtKind
from matchmaker.listings.services import all_themes, themes_by_slug
from matchmaker.organisations.models import (
    ContactPerson,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)
from matchmaker.organisations.services import close_challenges
from matchmaker.territories.services import EVERYTHING, Coverage

KIND_ORDER = {ListingKind.NEED: 0, ListingKind.OFFER: 1, ListingKind.CHALLENGE: 2}


class ImportRefused(Exception):
    """The document has problems; nothing was saved."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(f"{problems.total} problem(s)")
        self.problems = problems


@dataclass
class ImportReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    listing_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        for what in ("organisations", "listings"):
            parts.append(
                f"{what}: {self.created[what]} created, {self.updated[what]} updated, "
                f"{self.unchanged[what]} unchanged"
            )
        return "; ".join(parts)


def _set(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def written_in(languages: list[str]) -> str:
    """The language most of ``languages`` are (of those tied, the one listed first), English
    for none: the language an organisation is taken to write in from its listings'."""
    counts = Counter(languages)
    return max(counts, key=counts.__getitem__) if counts else DEFAULT_LANGUAGE


def _refuse_closed_organisations(records: list[dict[str, Any]]) -> None:
    """Refuse a document naming an organisation that was closed (by its owner, or when its last
    member erased their account): its contact people and profile were erased with it, and an
    import would bring them back under an organisation nobody may answer for."""
    closed = {
        (name, country)
        for name, country in db.session.execute(
            sa.select(Organisation.name, Organisation.country).where(
                Organisation.status == OrganisationStatus.CLOSED,
                Organisation.name.in_({record["name"] for record in records}),
            )
        )
    }
    problems = Problems()
    for index, record in enumerate(records):
        if (record["name"], record["country"]) in closed:
            problems.add(
                f"organisations[{index}].name",
                f'"{record["name"]}" was closed by its members; an import cannot change it',
            )
    if problems:
        raise ImportRefused(problems)


def import_document(
    document: Any, *, actor: User | None = None, verify: bool = True
) -> ImportReport:
    """Validate ``document`` and write it. Raises :class:`ImportRefused` with every problem.

    Organisations are matched by name and country, listings by organisation, kind and title:
    importing the same document twice changes nothing. The caller commits (or rolls back).
    """
    themes = {t.slug: t for t in all_themes()}
    clean, problems = validate_document(
        document, themes, max_records=current_app.config["IMPORT_MAX_RECORDS"]
    )
    if problems:
        raise ImportRefused(problems)
    _refuse_closed_organisations(clean["organisations"])
    report = ImportReport()
    listing_languages: dict[str, list[str]] = {}
    for record in clean["listings"]:
        listing_languages.setdefault(record["organisation"], []).append(record["language"])
    organisations: dict[str, Organisation] = {}
    for record in clean["organisations"]:
        organisation = db.session.scalar(
            sa.select(Organisation).where(
                Organisation.name == record["name"], Organisation.country == record["country"]
            )
        )
        place = record["place"]
        values = {
            "kind": OrganisationKind(record["kind"]),
            "description": record["description"],
            "website": record["website"],
            "city": record["city"],
            "region": record["region"],
            "geonames_id": place.geonames_id,
            "latitude": place.latitude,
            "longitude": place.longitude,
            "subdivision": place.subdivision,
        }
        if record["language"] is not None:
            values["language"] = record["language"]
        if organisation is None:
            # Without a language, in the one most of its listings are written in.
            values.setdefault("language", written_in(listing_languages.get(record["ref"], [])))
            organisation = Organisation(name=record["name"], country=record["country"], **values)
            if verify:
                organisation.status = OrganisationStatus.VERIFIED
                organisation.verified_at = utcnow()
                organisation.verified_by_id = actor.id if actor else None
            db.session.add(organisation)
            report.created["organisations"] += 1
            changed = False
        else:
            was_public_agency = organisation.kind == OrganisationKind.PUBLIC_AGENCY
            changed = _set(organisation, values)
            if was_public_agency and organisation.kind != OrganisationKind.PUBLIC_AGENCY:
                close_challenges(organisation, actor=actor)
        for contact in record["contacts"]:
            existing = next((c for c in organisation.contacts if c.name == contact["name"]), None)
            details = {k: contact[k] for k in ("position", "email", "phone")}
            if existing is None:
                organisation.contacts.append(ContactPerson(name=contact["name"], **details))
                changed = True
            else:
                changed = _set(existing, details) or changed
        if organisation.id is not None:
            (report.updated if changed else report.unchanged)["organisations"] += 1
        organisations[record["ref"]] = organisation
    db.session.flush()

    for record in clean["listings"]:
        organisation = organisations[record["organisation"]]
        kind = ListingKind(record["kind"])
        listing = db.session.scalar(
            sa.select(Listing).where(
                Listing.organisation_id == organisation.id,
                Listing.kind == kind,
                Listing.title == record["title"],
            )
        )
        status = ListingStatus(record["status"])
        values = {
            "description": record["description"],
            "scope": Scope(record["scope"]),
            "language": record["language"],
            "status": status,
            "expires_on": record["expires_on"],
            "deadline": record["deadline"] if kind == ListingKind.CHALLENGE else None,
        }
        wanted_themes = record["themes"]
        wanted_kinds = [OrganisationKind(k) for k in dict.fromkeys(record["sought_kinds"])]
        if listing is None:
            listing = Listing(
                organisation=organisation,
                kind=kind,
                title=record["title"],
                **values,
                themes=list(themes_by_slug(wanted_themes).values()),
                sought=[SoughtKind(kind=k) for k in wanted_kinds],
                closed_at=utcnow() if status == ListingStatus.CLOSED else None,
            )
            db.session.add(listing)
            report.created["listings"] += 1
        else:
            changed = _set(listing, values)
            if sorted(t.slug for t in listing.themes) != sorted(wanted_themes):
                listing.themes = list(themes_by_slug(wanted_themes).values())
                changed = True
            if sorted(listing.sought_kinds) != sorted(wanted_kinds):
                listing.sought = [SoughtKind(kind=k) for k in wanted_kinds]
                changed = True
            (report.updated if changed else report.unchanged)["listings"] += 1
        db.session.flush()
        report.listing_ids.append(listing.id)

    if report.created or report.updated:
        record_event(
            "data:import",
            actor=actor,
            subject=None,
            details={"created": dict(report.created), "updated": dict(report.updated)},
        )
    return report


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "organisation"


def export_document(coverage: Coverage = EVERYTHING) -> dict[str, Any]:
    """Every organisation ``coverage`` holds and its listings, in a stable order with stable
    refs."""
    organisations = list(
        db.session.scalars(
            sa.select(Organisation)
            .where(coverage.organisations())
            .options(selectinload(Organisation.contacts))
            .order_by(Organisation.name, Organisation.country)
        )
    )
    refs: dict[int, str] = {}
    used: Counter[str] = Counter()
    exported_organisations = []
    for organisation in organisations:
        base = f"{_slug(organisation.name)}-{organisation.country.lower()}"
        used[base] += 1
        ref = base if used[base] == 1 else f"{base}-{used[base]}"
        refs[organisation.id] = ref
        exported_organisations.append(
            {
                "ref": ref,
                "name": organisation.name,
                "kind": organisation.kind.value,
                "description": organisation.description,
                "language": organisation.language,
                "website": organisation.website,
                "city": organisation.city,
                "region": organisation.region,
                "country": organisation.country,
                "geonames_id": organisation.geonames_id,
                "contacts": [
                    {
                        "name": contact.name,
                        "position": contact.position,
                        "email": contact.email,
                        "phone": contact.phone,
                    }
                    for contact in organisation.contacts
                ],
            }
        )
    position = {organisation.id: index for index, organisation in enumerate(organisations)}
    listings = sorted(
        db.session.scalars(sa.select(Listing).where(coverage.listings())),
        key=lambda item: (position[item.organisation_id], KIND_ORDER[item.kind], item.id),
    )
    counters: Counter[tuple[int, str]] = Counter()
    exported_listings = []
    for listing in listings:
        counters[(listing.organisation_id, listing.kind.value)] += 1
        number = counters[(listing.organisation_id, listing.kind.value)]
        entry: dict[str, Any] = {
            "ref": f"{refs[listing.organisation_id]}-{listing.kind.value}-{number}",
            "organisation": refs[listing.organisation_id],
            "kind": listing.kind.value,
            "title": listing.title,
            "description": listing.description,
            "themes": [theme.slug for theme in listing.themes],
            "scope": listing.scope.value,
            "language": listing.language,
            "status": listing.status.value,
            "expires_on": listing.expires_on.isoformat() if listing.expires_on else None,
        }
        if listing.kind == ListingKind.CHALLENGE:
            entry["sought_kinds"] = [kind.value for kind in listing.sought_kinds]
            entry["deadline"] = listing.deadline.isoformat() if listing.deadline else None
        exported_listings.append(entry)
    return {
        "format": FORMAT,
        "organisations": exported_organisations,
        "listings": exported_listings,
    }
