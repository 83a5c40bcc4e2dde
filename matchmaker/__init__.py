"""SSE Matchmaker: explainable partnership matching for the Social and Solidarity Economy."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import lru_cache
from inspect import iscoroutinefunction
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from matchmaker.config import load_config
from matchmaker.core.logs import loggable_path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def _shipped_folder(name: str) -> Path:
    """``templates/`` or ``migrations/``: inside the package when installed from the wheel,
    at the top of the repository in a checkout (pyproject.toml maps one onto the other)."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PROJECT_ROOT / name


TEMPLATES_DIR = _shipped_folder("templates")
MIGRATIONS_DIR = _shipped_folder("migrations")


class App(Flask):
    """Flask, asking once per function whether it is a coroutine function: Flask asks again for
    each of a request's dozen hooks and its view on every request (``ensure_sync``, documented as
    the method to override), about 2 % of a stored page's time."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if is_coroutine_function(func):
            return self.async_to_sync(func)
        return func

    def log_exception(self, exc_info: Any) -> None:
        """Flask's line for an error, naming the path as the request lines do: without the
        secret a mailed link carries in it (core/logs.py)."""
        self.logger.error(
            "Exception on %s [%s]", loggable_path(), request.method, exc_info=exc_info
        )


@lru_cache(maxsize=4096)
def is_coroutine_function(func: Callable[..., Any]) -> bool:
    """``inspect.iscoroutinefunction``, remembered per function (views and hooks live as long
    as the app)."""
    return iscoroutinefunction(func)


def create_app(config_overrides: Mapping[str, Any] | None = None) -> Flask:
    # Without MATCHMAKER_INSTANCE_PATH, Flask's choice: instance/ beside the package in a
    # checkout, <venv>/var/matchmaker-instance when installed.
    instance_setting = os.environ.get("MATCHMAKER_INSTANCE_PATH")
    app = App(
        __name__,
        template_folder=str(TEMPLATES_DIR),
        instance_path=os.path.abspath(instance_setting) if instance_setting else None,
        instance_relative_config=False,
    )
    instance_path = Path(app.instance_path)
    environ = dict(os.environ)
    if config_overrides and "MATCHMAKER_ENV" in config_overrides:
        environ["MATCHMAKER_ENV"] = config_overrides["MATCHMAKER_ENV"]
    app.config.from_mapping(load_config(environ, instance_path))
    if config_overrides:
        app.config.from_mapping(config_overrides)

    if app.config.get("PROXY_FIX_X_FOR") or app.config.get("PROXY_FIX_X_PROTO"):
        # Only the configured number of proxies is believed: a client cannot pick its own
        # address by sending X-Forwarded-For when the app faces the internet directly.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=app.config["PROXY_FIX_X_FOR"],
            x_proto=app.config["PROXY_FIX_X_PROTO"],
        )

    _import_models()
    _init_extensions(app)
    _init_jobs(app)
    _register_blueprints(app)
    _register_cli(app)
    if app.config["MATCHMAKER_ENV"] == "production" and not app.config["BROKER_URL"]:
        app.logger.warning(NO_BROKER_IN_PRODUCTION)
    return app


NO_BROKER_IN_PRODUCTION = (
    "MATCHMAKER_BROKER_URL is not set: background jobs (mail, matching) run inside the web "
    "request that causes them, which then waits for the mail server and the matcher, and a "
    "password reset answers more slowly for an address that has an account than for one that "
    "has none. Set it to a Redis URL and start a worker and the scheduler (README, 'Background "
    "jobs and mail')."
)


def _import_models() -> None:
    """Every model module, so the metadata Alembic compares against is complete."""
    import matchmaker.accounts.models
    import matchmaker.alerts.models
    import matchmaker.announcements.models
    import matchmaker.core.models
    import matchmaker.listings.models
    import matchmaker.matching.models
    import matchmaker.notifications.models
    import matchmaker.organisations.models
    import matchmaker.proposals.models
    import matchmaker.territories.models  # noqa: F401


def _init_extensions(app: Flask) -> None:
    from matchmaker.core import (
        arguments,
        auth,
        caching,
        errors,
        i18n,
        icons,
        logs,
        security,
        static_files,
        uploads,
    )
    from matchmaker.extensions import babel, csrf, db, limiter, login_manager, mail, migrate

    # First, so the request id is set before any other hook can answer the request.
    logs.init_app(app)
    # Before any blueprint: rules pick their converters when they are added.
    arguments.init_app(app)
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)
            sa.event.listen(db.engine, "savepoint", _sqlite_begin_before_savepoint)
    migrate.init_app(
        app,
        db,
        directory=str(MIGRATIONS_DIR),
        render_as_batch=app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"),
        compare_type=True,
    )
    caching.init_app(app)
    static_files.init_app(app)
    uploads.init_app(app)  # before csrf, which reads the body
    csrf.init_app(app)
    limiter.init_app(app)
    caching.skip_rate_limit_check_for_stored_pages(app)
    mail.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    icons.init_app(app)


def _init_jobs(app: Flask) -> None:
    """The Celery app, and every module that declares jobs (so each is registered)."""
    import matchmaker.accounts.tasks
    import matchmaker.alerts.tasks
    import matchmaker.announcements.tasks
    import matchmaker.core.outbox
    import matchmaker.core.purge
    import matchmaker.matching.tasks
    import matchmaker.notifications.tasks  # noqa: F401
    from matchmaker.core import jobs

    jobs.init_app(app)


# How long a write waits for SQLite's write lock, which one writer holds at a time (a full
# matcher run holds it from its first write to its commit), before it is refused as busy.
SQLITE_BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's own lower() folds ASCII letters only ("École", "Δήμος" stay as they are), so a
    # name compared or searched case-insensitively would miss most capitals of five of the
    # six languages people write here: Python's, as PostgreSQL's under a UTF-8 locale.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # 32 MB of page cache (the default is 2 MB): large matcher runs write hundreds of
    # thousands of index entries.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _sqlite_begin_before_savepoint(connection: sa.Connection, _name: str) -> None:
    """Python's sqlite3 begins a transaction only before a write: a SAVEPOINT before the
    transaction's first write (an introduction request's insert) began one of its own, which
    releasing the savepoint committed. Begun here, the release leaves it to the commit."""
    driver = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        driver.execute("BEGIN")


def _register_blueprints(app: Flask) -> None:
    from matchmaker import api
    from matchmaker.accounts.routes import bp as accounts_bp
    from matchmaker.admin.routes import bp as admin_bp
    from matchmaker.alerts.routes import bp as alerts_bp
    from matchmaker.announcements.routes import bp as announcements_bp
    from matchmaker.audit.routes import bp as audit_bp
    from matchmaker.core.routes import bp as core_bp
    from matchmaker.dashboard.routes import bp as dashboard_bp
    from matchmaker.interchange.routes import bp as interchange_bp
    from matchmaker.listings.routes import bp as listings_bp
    from matchmaker.murmurations.routes import bp as murmurations_bp
    from matchmaker.notifications.routes import bp as notifications_bp
    from matchmaker.organisations.routes import bp as organisations_bp
    from matchmaker.places.routes import bp as places_bp
    from matchmaker.privacy.routes import bp as privacy_bp
    from matchmaker.proposals.routes import bp as proposals_bp
    from matchmaker.territories.routes import bp as territories_bp

    # The JSON API's blueprints (flask-smorest registers them, documenting each operation).
    api.init_app(app)
    for blueprint in (
        core_bp,
        accounts_bp,
        organisations_bp,
        places_bp,
        listings_bp,
        alerts_bp,
        announcements_bp,
        interchange_bp,
        proposals_bp,
        notifications_bp,
        audit_bp,
        dashboard_bp,
        admin_bp,
        murmurations_bp,
        privacy_bp,
        territories_bp,
    ):
        app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from matchmaker.accounts.cli import users_cli
    from matchmaker.demo.cli import demo_cli
    from matchmaker.interchange.cli import data_cli
    from matchmaker.matching.cli import match_cli, proposals_cli
    from matchmaker.murmurations.cli import murmurations_cli
    from matchmaker.notifications.cli import notifications_cli

    for group in (
        users_cli,
        demo_cli,
        data_cli,
        match_cli,
        proposals_cli,
        notifications_cli,
        murmurations_cli,
    ):
        app.cli.add_command(group)
