"""The OpenAPI document and the browsable docs (Swagger UI, served from static/vendor)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from matchmaker.core.auth import public

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    from matchmaker.api import api

    response = current_app.response_class(
        current_app.json.dumps(api.spec.to_dict()), mimetype="application/json"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/docs")
@public
def docs() -> ResponseReturnValue:
    return render_template("api/docs.html")
