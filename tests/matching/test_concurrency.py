from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from flask import Flask

from matchmaker.extensions import db
from matchmaker.matching.engine import ADVISORY_LOCK_KEY
from matchmaker.matching.models import MatcherRun
from tests.conftest import is_postgres

pytestmark = pytest.mark.skipif(not is_postgres(), reason="advisory locks are PostgreSQL's")


def test_a_second_run_says_another_is_under_way(app: Flask) -> None:
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as other:
        other.execute(sa.select(sa.func.pg_advisory_lock(ADVISORY_LOCK_KEY)))
        result = app.test_cli_runner().invoke(args=["match", "run"])
        assert result.exit_code != 0
        assert "Another matcher run is under way" in result.output
        other.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
    engine.dispose()
    assert app.test_cli_runner().invoke(args=["match", "run"]).exit_code == 0


def test_wait_runs_after_the_other_run(app: Flask) -> None:
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    other = engine.connect()
    other.execute(sa.select(sa.func.pg_advisory_lock(ADVISORY_LOCK_KEY)))
    release = threading.Timer(
        0.5, lambda: other.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
    )
    release.start()
    result = app.test_cli_runner().invoke(args=["match", "run", "--wait"])
    release.join()
    other.close()
    engine.dispose()
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatcherRun)) == 1
