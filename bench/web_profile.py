"""Where one page spends its time, on the database bench/web.py built (pyinstrument).

    .venv/bin/pip install pyinstrument
    .venv/bin/python bench/web_profile.py /organisations                  # SQLite
    .venv/bin/python bench/web_profile.py --engine postgresql /needs?q=housing
    .venv/bin/python bench/web_profile.py --coordinator /dashboard --queries

The page is requested a few times first (templates and statements compile), then --repeat
times under the profiler, in the app's production settings (local caches, no Redis needed).
--queries prints the SQL statements of one request instead. --redis URL keeps the cache in
Redis (emptied first) as production does: only then does a process keep signed-in users'
accounts and unread counts between requests.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web import CACHE_DIR, COORDINATOR, PG_URL, SECRET_KEY  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--listings", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--coordinator", action="store_true", help="signed in as the coordinator")
    parser.add_argument("--queries", action="store_true", help="print the SQL of one request")
    parser.add_argument("--width", type=int, default=300, help="characters of SQL shown")
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="the cache in Redis, as in production (signed-in users' accounts are kept by the "
        "process only then); emptied first",
    )
    args = parser.parse_args()

    import sqlalchemy as sa

    from matchmaker import create_app
    from matchmaker.extensions import db

    url = (
        f"sqlite:///{CACHE_DIR / f'bench-{args.listings}.sqlite3'}"
        if args.engine == "sqlite"
        else PG_URL
    )
    os.environ.update(MATCHMAKER_SECRET_KEY=SECRET_KEY, MATCHMAKER_RATELIMIT_ENABLED="false")
    app = create_app(
        {
            "MATCHMAKER_ENV": "production",
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "SESSION_COOKIE_SECURE": False,
            "LOG_LEVEL": "WARNING",
            **(
                {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": args.redis}
                if args.redis
                else {"CACHE_TYPE": "SimpleCache"}
            ),
        }
    )
    if args.redis:
        import redis

        redis.Redis.from_url(args.redis).flushdb()
    client = app.test_client()
    if args.coordinator:
        email, password = COORDINATOR
        app.config["WTF_CSRF_ENABLED"] = False
        client.post("/login", data={"email": email, "password": password})
    for _ in range(3):
        answer = client.get(args.path)
        assert answer.status_code == 200, (answer.status_code, answer.location)
    if args.queries:
        statements: list[list[Any]] = []

        def before(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
            statements.append([statement, time.perf_counter()])

        def after(*_a: Any) -> None:
            statements[-1][1] = time.perf_counter() - statements[-1][1]

        with app.app_context():
            sa.event.listen(db.engine, "before_cursor_execute", before)
            sa.event.listen(db.engine, "after_cursor_execute", after)
        client.get(args.path)
        for statement, seconds in statements:
            print(f"{seconds * 1000:7.1f} ms  {' '.join(statement.split())[: args.width]}")
        print(f"{len(statements)} statements")
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(args.repeat):
            client.get(args.path)
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
