"""Fingerprinted static files: ``url_for('static', filename=...)`` adds ``?v=`` and a digest of
the file, and an answer to that address may be kept a year (a new file gets a new address)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request

ONE_YEAR = 365 * 24 * 3600


def fingerprints(folder: Path) -> dict[str, str]:
    """A short digest of each file's content, by its path under ``folder``."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _current(app: Flask) -> dict[str, str]:
    # In development files change while the server runs: read them again each time.
    if app.debug or "static_fingerprints" not in app.extensions:
        app.extensions["static_fingerprints"] = fingerprints(Path(app.static_folder or ""))
    return app.extensions["static_fingerprints"]


def _add_fingerprint(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values:
        digest = _current(current_app).get(values["filename"])
        if digest:
            values.setdefault("v", digest)


def _keep_fingerprinted(response: Response) -> Response:
    if request.endpoint != "static" or response.status_code != 200 or not request.view_args:
        return response
    digest = _current(current_app).get(request.view_args.get("filename", ""))
    if digest and request.args.get("v") == digest:
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
    return response


def init_app(app: Flask) -> None:
    app.url_defaults(_add_fingerprint)
    app.after_request(_keep_fingerprinted)
