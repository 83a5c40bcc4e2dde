"""Suggestions of real places for the city fields (a progressive enhancement: the forms find a
typed name without them)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from matchmaker.core.arguments import text_arg
from matchmaker.core.i18n import country_name, is_country_code
from matchmaker.places import gazetteer

bp = Blueprint("places", __name__)


@bp.get("/places/suggestions")
def suggest_places() -> ResponseReturnValue:
    """Up to ten places whose name (in any language or script) starts with ``q``, in
    ``country`` when it is a country code: [{id, name, value, label}]. For the signed-in
    people who fill in an organisation's city (the forms that use it need a login too)."""
    country = text_arg("country", max_length=2).upper()
    found = gazetteer.complete(
        text_arg("q", max_length=100), country if is_country_code(country) else None
    )
    response = jsonify(
        [
            {
                "id": place.geonames_id,
                "name": place.name,
                "value": gazetteer.suggestion(place),
                "label": f"{gazetteer.suggestion(place)}, {country_name(place.country)}",
            }
            for place in found
        ]
    )
    # The same answer for everyone: the browser may keep it a day.
    response.cache_control.private = True
    response.cache_control.max_age = 86400
    return response
