"""Public, read-only JSON: one profile per verified organisation and per live listing, and the
index of them all. Anything unpublished answers 404, as the Murmurations index expects of a
profile that should leave it."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue

from matchmaker.core.auth import public
from matchmaker.murmurations import profiles

bp = Blueprint("murmurations", __name__, url_prefix="/murmurations")


@bp.after_request
def _readable_anywhere(response: Response) -> Response:
    # Public data meant for other sites, some of which read it from the browser.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _not_published() -> ResponseReturnValue:
    return jsonify(error="No published profile at this address."), 404


@bp.get("/organisations/<int:organisation_id>.json")
@public
def organisation_profile(organisation_id: int) -> ResponseReturnValue:
    organisation = profiles.published_organisation(organisation_id)
    if organisation is None:
        return _not_published()
    return jsonify(profiles.organisation_profile(organisation))


@bp.get("/listings/<int:listing_id>.json")
@public
def listing_profile(listing_id: int) -> ResponseReturnValue:
    listing = profiles.published_listing(listing_id)
    if listing is None:
        return _not_published()
    return jsonify(profiles.listing_profile(listing))


@bp.get("/index.json")
@public
def index() -> ResponseReturnValue:
    return jsonify(profiles=profiles.profile_index())
