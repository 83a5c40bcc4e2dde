"""The JSON API under /api/v1 (docs/api.md): public reads, members' listings and proposals with
a personal access token, and the coordinators' review queue.

flask-smorest validates every request with the marshmallow schemas of api/schemas.py and builds
the OpenAPI 3.1 document from the same schemas. Its blueprints carry only the API's own error
handling (problem+json), CORS on the public reads, and a rate limit per token.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import flask_smorest
import marshmallow as ma
from flask import Flask, Request
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser

from matchmaker.api import problems
from matchmaker.api.access import BEARER_SCHEME, Access, guarded, rate_limit_key
from matchmaker.core.arguments import MAX_ID, BoundedIntConverter
from matchmaker.core.errors import answer_errors_under
from matchmaker.core.security import configured_limit
from matchmaker.extensions import csrf, limiter

PREFIX = "/api/v1"


class Api(flask_smorest.Api):
    """flask-smorest's Api, with errors as problem+json and only under the API's prefix (its own
    handler would answer every error of the site in JSON)."""

    ERROR_SCHEMA = problems.ProblemSchema

    def _register_error_handlers(self) -> None:
        answer_errors_under(self._app, PREFIX + "/", problems.problem_response)

    def _register_responses(self) -> None:
        for status in HTTPStatus:
            if status >= 400:
                response = {"description": status.phrase, "schema": self.ERROR_SCHEMA}
                prepare_response(response, self.spec, problems.CONTENT_TYPE)
                self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, problems.CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class ArgumentsParser(FlaskParser):
    """webargs' parser, refusing as invalid JSON (400) the bodies Python's reader fails on with
    other errors than webargs expects: arrays or objects nested past the recursion limit
    (RecursionError) and integers of more than 4,300 digits (ValueError). Both were a 500."""

    def load_json(self, req: Request, schema: ma.Schema) -> Any:
        try:
            return super().load_json(req, schema)
        except (RecursionError, ValueError) as error:
            unreadable = json.JSONDecodeError(str(error), doc="", pos=0)
            return self._handle_invalid_json_error(unreadable, req)


class ApiBlueprint(flask_smorest.Blueprint):
    """Each operation names who may call it (``access``: deny by default) and documents its
    errors as problem+json."""

    ARGUMENTS_PARSER = ArgumentsParser()

    def route(
        self, rule: str, *, access: Access, **options: Any
    ) -> Callable[[Callable[..., Any]], Any]:
        parent = super().route(rule, **options)

        def decorator(view: Callable[..., Any]) -> Any:
            view = self.alt_response("default", response="DEFAULT_ERROR")(view)
            if access is not Access.PUBLIC:
                view = self.doc(security=[{BEARER_SCHEME: []}])(view)
            return parent(guarded(view, access))

        return decorator


api = Api()


def api_blueprint(
    name: str, import_name: str, description: str, *, personal: bool = True
) -> ApiBlueprint:
    """A blueprint of the API: bearer tokens only, never the session cookie (so no CSRF token:
    a cross-site form cannot send the header), and a rate limit per token. What ``personal``
    blueprints answer is kept by no cache; the public reads may be fetched from any site."""
    blueprint = ApiBlueprint(name, import_name, description=description)
    csrf.exempt(blueprint)
    limiter.limit(lambda: configured_limit("RATELIMIT_API"), key_func=rate_limit_key)(blueprint)
    blueprint.after_request(_not_stored if personal else allow_any_origin)
    return blueprint


def _not_stored(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response


def allow_any_origin(response: Any) -> Any:
    """Public reads may be fetched from any site's pages (regional platforms embed listings)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def init_app(app: Flask) -> None:
    from matchmaker.api import coordination, members, public
    from matchmaker.api.docs import bp as docs_bp

    api.init_app(
        app,
        spec_kwargs={
            "servers": [{"url": "/", "description": "This site"}],
            "info": {"description": "See docs/api.md. Errors are application/problem+json."},
        },
    )
    api.spec.components.security_scheme(
        BEARER_SCHEME,
        {"type": "http", "scheme": "bearer", "description": "A personal access token"},
    )
    api.register_converter(
        BoundedIntConverter, lambda _converter: {"type": "integer", "minimum": 0, "maximum": MAX_ID}
    )
    for blueprint in (public.bp, members.bp, coordination.bp):
        api.register_blueprint(blueprint, url_prefix=PREFIX)
    app.register_blueprint(docs_bp)
