"""How large a request body may be. Every form and API call is small, so the app reads at most
``MAX_CONTENT_LENGTH`` bytes of any request; the few views that take a file (a logo, a data
import) say how much more they accept with :func:`accepts_upload`, and read that much only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

F = TypeVar("F", bound=Callable[..., Any])

UPLOAD_SETTING_ATTR = "_matchmaker_upload_setting"


def accepts_upload(setting: str) -> Callable[[F], F]:
    """Let the view read a body of up to the bytes the setting ``setting`` holds (instead of
    ``MAX_CONTENT_LENGTH``). Put it right under the route decorator."""

    def decorator(view: F) -> F:
        setattr(view, UPLOAD_SETTING_ATTR, setting)
        return view

    return decorator


def _allow_the_views_upload() -> None:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    setting = getattr(view, UPLOAD_SETTING_ATTR, None)
    if setting is not None:
        request.max_content_length = int(current_app.config[setting])


def init_app(app: Flask) -> None:
    # Before CSRFProtect's hook, which is the first to read the body (its token is a field).
    app.before_request(_allow_the_views_upload)
