"""The API's request and response bodies. The same schemas validate what comes in and write
the OpenAPI document, so the two cannot drift apart."""

from __future__ import annotations

import unicodedata
from typing import Any

import marshmallow as ma
from flask import url_for
from flask_babel import lazy_gettext as _l

from matchmaker.api.paging import PageArgs, page_schema
from matchmaker.core.mail import external_url
from matchmaker.core.text import has_control_characters, single_line
from matchmaker.core.words import LANGUAGES
from matchmaker.listings.models import ListingKind, Scope
from matchmaker.listings.services import DESCRIPTION_LENGTH, MAX_THEMES, TITLE_LENGTH
from matchmaker.organisations.models import OrganisationKind
from matchmaker.proposals.models import ProposalStatus, RejectionReason

ORGANISATION_KINDS = [kind.value for kind in OrganisationKind]
LISTING_KINDS = [kind.value for kind in ListingKind]
SCOPES = [scope.value for scope in Scope]


def _no_surrogates(value: str) -> bool:
    # A lone surrogate can be written in JSON but not stored in any database.
    return not any(unicodedata.category(char) == "Cs" for char in value)


class Line(ma.fields.String):
    """One line of text: no newlines, tabs or other control characters."""

    default_error_messages = {
        "control": _l("Keep this on one line, without tabs or control characters.")
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if has_control_characters(text) or not _no_surrogates(text):
            raise self.make_error("control")
        return text


class Text(ma.fields.String):
    """Text of several lines: line breaks, but no tabs or other control characters."""

    default_error_messages = {
        "control": _l("Remove the tabs and control characters from this text.")
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if has_control_characters(text, line_breaks=True) or not _no_surrogates(text):
            raise self.make_error("control")
        return text


class SearchText(ma.fields.String):
    """A search term from the query string, read as the pages read it (core/arguments.text_arg):
    control characters become spaces."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        return "".join(c for c in single_line(text) if _no_surrogates(c))


def _slug(**kwargs: Any) -> ma.fields.String:
    """A theme's or a template's short name: lower-case letters, digits, ``-`` and ``_``."""
    return ma.fields.String(
        validate=[ma.validate.Length(max=64), ma.validate.Regexp(r"^[a-z0-9_-]*\Z")], **kwargs
    )


def _choice(values: list[str], **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.OneOf(values), **kwargs)


# Public reads ------------------------------------------------------------------------------

# apispec reads a Method field as "any type": its metadata says what it holds.
PAGE_URL = {"type": "string", "format": "uri", "description": "Its page on the site."}


class ThemeSchema(ma.Schema):
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)


class ThemeListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ThemeSchema), required=True)


class OrganisationSummarySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    kind = _choice(ORGANISATION_KINDS, required=True)
    city = ma.fields.String(required=True)
    region = ma.fields.String(required=True)
    country = ma.fields.String(required=True, metadata={"description": "ISO 3166-1 alpha-2"})
    language = _choice(
        list(LANGUAGES),
        required=True,
        metadata={"description": "The language the name and description are written in"},
    )


class OrganisationSchema(OrganisationSummarySchema):
    description = ma.fields.String(required=True)
    website = ma.fields.String(required=True, allow_none=True)
    url = ma.fields.Method("page_url", required=True, metadata=PAGE_URL)

    def page_url(self, organisation: Any) -> str:
        return external_url(url_for("organisations.show", organisation_id=organisation.id))


class ListingSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = _choice(LISTING_KINDS, required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    themes = ma.fields.Method(
        "theme_slugs", required=True, metadata={"type": "array", "items": {"type": "string"}}
    )
    scope = _choice(SCOPES, required=True)
    language = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    expires_on = ma.fields.Date(required=True, allow_none=True)
    deadline = ma.fields.Date(required=True, allow_none=True)
    sought_kinds = ma.fields.List(ma.fields.String(), required=True)
    organisation = ma.fields.Nested(OrganisationSummarySchema, required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)
    url = ma.fields.Method("page_url", required=True, metadata=PAGE_URL)

    class Meta:
        ordered = True

    def theme_slugs(self, listing: Any) -> list[str]:
        return [theme.slug for theme in listing.themes]

    def page_url(self, listing: Any) -> str:
        return external_url(url_for("listings.show", listing_id=listing.id))


class OrganisationFilterArgs(PageArgs):
    q = SearchText(validate=ma.validate.Length(max=200), metadata={"description": "Name contains"})
    kind = _choice(ORGANISATION_KINDS)
    country = ma.fields.String(validate=ma.validate.Regexp(r"^[A-Z]{2}\Z"))
    region = SearchText(validate=ma.validate.Length(max=100))


class ListingFilterArgs(PageArgs):
    """The filters of the needs, offers and challenges pages."""

    kind = _choice(LISTING_KINDS)
    q = SearchText(
        validate=ma.validate.Length(max=200),
        metadata={"description": "Full-text search, as on the pages (word prefixes match)."},
    )
    theme = _slug(metadata={"description": "A theme's slug"})
    organisation_kind = _choice(ORGANISATION_KINDS)
    organisation_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1))
    country = ma.fields.String(validate=ma.validate.Regexp(r"^[A-Z]{2}\Z"))
    region = SearchText(validate=ma.validate.Length(max=100))
    scope = _choice(SCOPES)
    sort = _choice(
        ["newest", "deadline", "relevance"],
        metadata={"description": "Default: relevance when searching, else newest."},
    )


OrganisationPageSchema = page_schema(OrganisationSchema, "OrganisationPage")
ListingPageSchema = page_schema(ListingSchema, "ListingPage")


# Members' listings -------------------------------------------------------------------------


class ListingInputSchema(ma.Schema):
    """A new listing, checked as the form checks it (and then by the same service)."""

    organisation_id = ma.fields.Integer(
        required=True, validate=ma.validate.Range(min=1, max=2**31 - 1)
    )
    kind = _choice(LISTING_KINDS, required=True)
    title = Line(required=True, validate=ma.validate.Length(*TITLE_LENGTH))
    description = Text(required=True, validate=ma.validate.Length(*DESCRIPTION_LENGTH))
    themes = ma.fields.List(
        _slug(),
        required=True,
        validate=ma.validate.Length(min=1, max=MAX_THEMES),
    )
    scope = _choice(SCOPES, required=True)
    language = _choice(
        list(LANGUAGES),
        metadata={"description": "Left out: the language the organisation writes in."},
    )
    expires_on = ma.fields.Date(allow_none=True, metadata={"description": "Needs and offers."})
    deadline = ma.fields.Date(allow_none=True, metadata={"description": "Challenges (required)."})
    sought_kinds = ma.fields.List(
        _choice(ORGANISATION_KINDS),
        validate=ma.validate.Length(max=len(ORGANISATION_KINDS)),
        metadata={"description": "Challenges (at least one)."},
    )


class ListingUpdateSchema(ma.Schema):
    """The fields to change; those left out keep their value."""

    title = Line(validate=ma.validate.Length(*TITLE_LENGTH))
    description = Text(validate=ma.validate.Length(*DESCRIPTION_LENGTH))
    themes = ma.fields.List(_slug(), validate=ma.validate.Length(min=1, max=MAX_THEMES))
    scope = _choice(SCOPES)
    language = _choice(list(LANGUAGES))
    expires_on = ma.fields.Date(allow_none=True)
    deadline = ma.fields.Date(allow_none=True)
    sought_kinds = ma.fields.List(
        _choice(ORGANISATION_KINDS), validate=ma.validate.Length(max=len(ORGANISATION_KINDS))
    )


class MyListingArgs(PageArgs):
    status = _choice(["open", "paused", "closed"])


# Proposals ---------------------------------------------------------------------------------


class PartySchema(ma.Schema):
    organisation = ma.fields.Nested(OrganisationSummarySchema, required=True)
    listing_id = ma.fields.Integer(required=True)
    listing_title = ma.fields.String(required=True)
    listing_kind = _choice(LISTING_KINDS, required=True)
    role = ma.fields.String(required=True)


class ExplanationLineSchema(ma.Schema):
    rule = ma.fields.String(required=True)
    points = ma.fields.Integer(required=True)
    reason = ma.fields.String(required=True)


class ResponseSchema(ma.Schema):
    organisation_id = ma.fields.Integer(required=True)
    decision = _choice(["accepted", "declined"], required=True)
    message = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)


class ContactSchema(ma.Schema):
    organisation_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    position = ma.fields.String(required=True)
    email = ma.fields.String(required=True, allow_none=True)
    phone = ma.fields.String(required=True, allow_none=True)


class ProposalSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    template = ma.fields.String(required=True)
    score = ma.fields.Integer(required=True)
    status = _choice([status.value for status in ProposalStatus], required=True)
    version = ma.fields.Integer(
        required=True, metadata={"description": "Send it back with a decision (409 if stale)."}
    )
    parties = ma.fields.List(ma.fields.Nested(PartySchema), required=True)
    explanation = ma.fields.List(ma.fields.Nested(ExplanationLineSchema), required=True)
    responses = ma.fields.List(ma.fields.Nested(ResponseSchema), required=True)
    awaiting_answer_from = ma.fields.List(
        ma.fields.Integer(),
        required=True,
        metadata={"description": "Your organisations that have yet to accept or decline."},
    )
    contacts = ma.fields.List(
        ma.fields.Nested(ContactSchema),
        required=True,
        metadata={"description": "Shared once every party accepted; empty before."},
    )
    created_at = ma.fields.AwareDateTime(required=True)
    url = ma.fields.String(required=True)


ProposalPageSchema = page_schema(ProposalSchema, "ProposalPage")


class MyProposalArgs(PageArgs):
    # "withdrawn": introductions that ended when a party's organisation closed.
    status = _choice(["approved", "agreed", "declined", "withdrawn"])


class AnswerSchema(ma.Schema):
    message = Text(
        validate=ma.validate.Length(max=2000),
        metadata={"description": "Optional when accepting; say why when declining."},
    )


class QueueArgs(PageArgs):
    template = _slug()
    theme = _slug()
    country = ma.fields.String(validate=ma.validate.Regexp(r"^[A-Z]{2}\Z"))
    region = SearchText(validate=ma.validate.Length(max=100))
    organisation_kind = _choice(ORGANISATION_KINDS)
    min_score = ma.fields.Integer(validate=ma.validate.Range(min=0, max=100))


class ApproveSchema(ma.Schema):
    version = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "The proposal's version as you read it."},
    )
    note = Text(validate=ma.validate.Length(max=2000))


class RejectSchema(ApproveSchema):
    reason = _choice([reason.value for reason in RejectionReason], required=True)
