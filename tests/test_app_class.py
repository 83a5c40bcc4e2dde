"""The app's Flask subclass: it remembers which functions are coroutine functions."""

from __future__ import annotations

import functools
from inspect import iscoroutinefunction
from typing import Any

import pytest
from flask import Flask

from matchmaker import App, is_coroutine_function


def plain() -> str:
    return "plain"


async def later() -> str:
    return "later"


class Hooks:
    def method(self) -> None:
        return None

    async def async_method(self) -> None:
        return None


@pytest.mark.parametrize(
    "func",
    [
        plain,
        later,
        Hooks().method,
        Hooks().async_method,
        functools.partial(plain),
        functools.partial(later),
        lambda: None,
        print,
    ],
)
def test_the_remembered_answer_is_inspect_s(func: Any) -> None:
    for _ in range(2):  # asked, then remembered
        assert is_coroutine_function(func) == iscoroutinefunction(func)


def test_plain_functions_are_run_as_they_are_and_coroutines_as_flask_runs_them(app: Flask) -> None:
    assert isinstance(app, App)
    assert app.ensure_sync(plain) is plain
    hooks = Hooks()
    assert app.ensure_sync(hooks.method) == hooks.method
    try:
        wrapped = app.ensure_sync(later)
    except RuntimeError as error:  # Flask without its 'async' extra, as here
        assert "async" in str(error)
    else:
        assert wrapped is not later and wrapped() == "later"
