"""Web benchmark: how many requests a second each main page serves next to a hello-world app.

    make bench-web                                    # both engines, 50,000 listings
    .venv/bin/python bench/web.py --engine sqlite     # one engine
    .venv/bin/python bench/web.py --duration 10       # longer runs (3 s each by default)
    .venv/bin/python bench/web.py --rounds 5          # each page five times (3 by default)

The database is the seeded synthetic one of bench/matcher.py (bench/synthetic.py) with the demo
data on top and one full matcher run (so the review queue holds proposals). It is built once
and kept (SQLite: instance/bench-web/; PostgreSQL: the database ``bench_web``) until the
generator, the demo data or the size change (new migrations are applied to it); --rebuild
builds it again.

The app runs under gunicorn with 2 sync workers and production settings; a one-route Flask app
runs beside it under the same gunicorn. wrk (Debian package ``wrk``) loads each page with 2
threads and 32 connections, and hello-world is measured between every two pages, so a page is
compared with the hello-world runs just before and after it on a machine whose load drifts.
Every page is measured in each of --rounds rounds; its figures are those of its median round
(with the worst p99 and all the errors of every round): a single run moved by up to four
points of ratio from one run to the next.
Errors are socket errors plus answers other than 2xx. Targets (issue #16): every page at least
35 % of hello-world's requests a second, p99 at most 100 ms, no errors.
"""

from __future__ import annotations

import argparse
import hashlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE_DIR = ROOT / "instance" / "bench-web"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_web"
SECRET_KEY = "bench-web-not-secret"  # noqa: S105 (a throwaway server on loopback)
COORDINATOR = ("coordinator@example.org", "demo-password")
# The signed-in pages are asked for with the browser the coordinator signed in with: Flask-Login
# marks a session whose browser changed as no longer fresh, and wrk (which sends no User-Agent of
# its own and never keeps the answer's cookie) would have the session signed and set again on
# every request, which a browser pays once.
USER_AGENT = "bench-web"
TARGET_RATIO = 0.35
TARGET_P99_MS = 100.0

# wrk counts only 4xx and 5xx as errors; this script counts every answer that is not 2xx (a
# redirect to the sign-in page is a failure too), summed over wrk's threads.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("BENCH %d %d %d %d %d %d %d\\n", summary.requests,
    summary.duration, total, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, latency:percentile(50),
    latency:percentile(99), summary.errors.status))
end
"""


@dataclass
class Page:
    name: str
    path: str
    signed_in: bool = False


def pages(listing_id: int, organisation_id: int, territory: str) -> list[Page]:
    return [
        Page("home", "/"),
        Page("directory", "/organisations"),
        Page("directory filtered", "/organisations?kind=sse_organisation&country=FR"),
        Page("needs: search", "/needs?q=housing"),
        Page("needs: filters", "/needs?theme=training-advice&country=FR&scope=regional"),
        Page("offers: search", "/offers?q=research+evaluation"),
        Page(
            "offers: filters",
            "/offers?theme=research-evaluation&organisation_kind=academic_institution",
        ),
        Page("challenges: search", "/challenges?q=inclusion"),
        Page("challenges: filters", "/challenges?theme=social-inclusion&sort=deadline"),
        Page("listing", f"/listings/{listing_id}"),
        Page("organisation", f"/organisations/{organisation_id}"),
        Page("territory", f"/t/{territory}"),
        Page("review queue", "/coordination/proposals", signed_in=True),
        Page("dashboard", "/coordination/dashboard", signed_in=True),
    ]


# --- the database ----------------------------------------------------------------------------


def build_key(listings: int) -> str:
    """Changes when the data would: the generator, the demo data, the size. (A new migration
    is applied to the kept database instead, as to a production one.)"""
    digest = hashlib.sha256(str(listings).encode())
    sources = [ROOT / "bench" / "synthetic.py", ROOT / "matchmaker" / "demo" / "seed.json"]
    for source in sources:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _app(url: str) -> Any:
    from matchmaker import create_app

    return create_app(
        {"MATCHMAKER_ENV": "testing", "SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url}
    )


def _recreate_postgres_database(url: str) -> None:
    import sqlalchemy as sa

    name = url.rsplit("/", 1)[1]
    server = sa.create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    server.dispose()


def upgrade(url: str) -> None:
    """The kept database brought to the latest migration."""
    from flask_migrate import upgrade as upgrade_database

    from matchmaker.extensions import db

    with _app(url).app_context():
        upgrade_database()
        db.session.remove()
        db.engine.dispose()


def build(url: str, listings: int) -> None:
    """Migrations, the synthetic data, the demo data, one full matcher run."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from bench.synthetic import generate
    from matchmaker.demo.cli import load_demo
    from matchmaker.extensions import db
    from matchmaker.matching.engine import run_full

    app = _app(url)
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        generate(listings)
        if db.engine.dialect.name == "postgresql":
            # generate() writes its own ids: move the sequences past them for the demo data.
            for table in ("organisations", "listings"):
                db.session.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        load_demo()
        db.session.commit()
        print(f"  data written in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        started = time.perf_counter()
        run_full(wait=True)
        db.session.commit()
        print(f"  full matcher run in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("COMMIT"))
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


def database(engine: str, listings: int, rebuild: bool) -> str:
    """The URL of a built database for ``engine``, building it when missing or stale."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    key = build_key(listings)
    key_file = CACHE_DIR / f"{engine}.key"
    if engine == "sqlite":
        path = CACHE_DIR / f"bench-{listings}.sqlite3"
        url = f"sqlite:///{path}"
    else:
        url = os.environ.get("MATCHMAKER_BENCH_DATABASE_URL", PG_URL)
        key = f"{key} {url}"
    if not rebuild and key_file.exists() and key_file.read_text() == key:
        upgrade(url)
        return url
    print(f"building the {engine} database ({listings} listings)…", file=sys.stderr)
    key_file.unlink(missing_ok=True)
    if engine == "sqlite":
        for leftover in CACHE_DIR.glob(f"bench-{listings}.sqlite3*"):
            leftover.unlink()
    else:
        _recreate_postgres_database(url)
    build(url, listings)
    key_file.write_text(key)
    return url


def sample_ids(url: str) -> tuple[int, int, str]:
    """A demo listing (with themes, an organisation with contacts), a busy organisation, and
    the first territory of the demo data."""
    import sqlalchemy as sa

    from matchmaker.extensions import db
    from matchmaker.listings.models import Listing
    from matchmaker.territories.models import Territory

    app = _app(url)
    with app.app_context():
        listing = db.session.scalar(sa.select(sa.func.max(Listing.id)))
        busiest = db.session.execute(
            sa.select(Listing.organisation_id)
            .group_by(Listing.organisation_id)
            .order_by(sa.func.count().desc(), Listing.organisation_id)
            .limit(1)
        ).scalar_one()
        territory = db.session.scalars(
            sa.select(Territory.slug).order_by(Territory.id).limit(1)
        ).one()
        db.session.remove()
        db.engine.dispose()
    assert listing is not None
    return listing, busiest, territory


# --- the servers -----------------------------------------------------------------------------


def _gunicorn(
    target: str, port: int, env: dict[str, str], log: Path, ready_path: str = "/"
) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        *("--workers", "2", "--worker-class", "sync", "--bind", f"127.0.0.1:{port}"),
        target,
    ]
    if _supports_no_control_socket():
        command.insert(1, "--no-control-socket")
    process = subprocess.Popen(  # noqa: S603 (our own command line)
        command,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=5)
            return process
        except OSError:
            time.sleep(0.3)
    _stop(process)
    raise RuntimeError(f"gunicorn {target} did not answer on port {port}; see {log}")


def _supports_no_control_socket() -> bool:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    helped = subprocess.run(  # noqa: S603
        [str(gunicorn), "--help"], capture_output=True, text=True, check=False
    ).stdout
    return "--no-control-socket" in helped


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


REDIS_URL = os.environ.get("MATCHMAKER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")


def empty_cache() -> None:
    """Each engine starts with an empty cache (the other's fragments have the same keys)."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def app_environment(url: str) -> dict[str, str]:
    """Production settings, on this machine's Redis (db 7 unless told otherwise: the rate-limit
    counters and the cache, emptied before each engine's run)."""
    redis_url = REDIS_URL
    return {
        **os.environ,
        "MATCHMAKER_ENV": "production",
        "MATCHMAKER_SECRET_KEY": SECRET_KEY,
        "MATCHMAKER_DATABASE_URL": url,
        "MATCHMAKER_SECURE_COOKIES": "false",
        "MATCHMAKER_RATELIMIT_STORAGE_URL": redis_url,
        "MATCHMAKER_CACHE_URL": redis_url,
        "MATCHMAKER_MAIL_BACKEND": "console",
    }


def coordinator_cookie(base: str) -> str:
    """Sign in through the sign-in form, as a browser does; the session cookie wrk sends."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    form = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form) or re.search(
        r'name="csrf_token" value="([^"]+)"', form
    )
    assert token, "no CSRF token on the sign-in page"
    email, password = COORDINATOR
    data = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "email": email, "password": password}
    ).encode()
    opener.open(f"{base}/login", data=data).read()
    cookies = {cookie.name: cookie.value for cookie in jar}
    assert "session" in cookies, "signing in gave no session cookie"
    return f"session={cookies['session']}"


def check_pages(base: str, all_pages: list[Page], cookie: str) -> None:
    """Each page answers 200 (and a signed-in page is not the sign-in form) before it is timed."""
    for page in all_pages:
        request = urllib.request.Request(base + page.path)  # noqa: S310
        if page.signed_in:
            request.add_header("Cookie", cookie)
            request.add_header("User-Agent", USER_AGENT)
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            final = answer.geturl()
            if answer.status != 200 or "/login" in final:
                raise RuntimeError(f"{page.name} ({page.path}) answered {answer.status} {final}")


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def wrk(url: str, duration: int, script: Path, cookie: str | None = None) -> Result:
    command = ["wrk", "-t2", "-c32", f"-d{duration}s", "--timeout", "10s", "-s", str(script)]
    if cookie:
        command += ["-H", f"Cookie: {cookie}", "-H", f"User-Agent: {USER_AGENT}"]
    output = subprocess.run(  # noqa: S603
        [*command, url], capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    requests, duration_us, non_2xx, socket_errors, p50, p99, _status = map(int, line.split()[1:])
    return Result(
        requests_per_second=requests / (duration_us / 1e6),
        p50_ms=p50 / 1000,
        p99_ms=p99 / 1000,
        errors=non_2xx + socket_errors,
    )


def measure_engine(engine: str, args: argparse.Namespace, script: Path) -> list[dict[str, Any]]:
    url = database(engine, args.listings, args.rebuild)
    all_pages = pages(*sample_ids(url))
    if args.pages:
        all_pages = [p for p in all_pages if any(word in p.name for word in args.pages)]
    empty_cache()
    logs = Path(tempfile.mkdtemp(prefix="bench-web-"))
    app_port, hello_port = args.port, args.port + 1
    app_server = _gunicorn(
        "matchmaker:create_app()", app_port, app_environment(url), logs / "app.log", "/healthz"
    )
    hello_server = _gunicorn("bench.hello:app", hello_port, dict(os.environ), logs / "hello.log")
    try:
        base, hello = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{hello_port}/"
        cookie = coordinator_cookie(base)
        check_pages(base, all_pages, cookie)
        # Warm both: the first requests of a worker compile templates and SQL statements.
        wrk(hello, 1, script)
        for page in all_pages:
            wrk(base + page.path, 1, script, cookie if page.signed_in else None)
        hellos = [wrk(hello, args.duration, script)]
        measured: dict[str, list[dict[str, Any]]] = {page.name: [] for page in all_pages}
        # Every page once a round, each between two hello-world runs; a page's figures are
        # those of its median round (its worst p99, all its errors), so one run disturbed by
        # the machine moves them less.
        for round_number in range(1, args.rounds + 1):
            for page in all_pages:
                cookie_sent = cookie if page.signed_in else None
                result = wrk(base + page.path, args.duration, script, cookie_sent)
                hellos.append(wrk(hello, args.duration, script))
                reference = statistics.mean(h.requests_per_second for h in hellos[-2:])
                row = {
                    "engine": engine,
                    "page": page.name,
                    "path": page.path,
                    "round": round_number,
                    "rps": result.requests_per_second,
                    "hello_rps": reference,
                    "ratio": result.requests_per_second / reference,
                    "p50_ms": result.p50_ms,
                    "p99_ms": result.p99_ms,
                    "errors": result.errors,
                }
                measured[page.name].append(row)
                print(json.dumps(row), file=sys.stderr)
        rows = [median_round(measured[page.name]) for page in all_pages]
    finally:
        _stop(app_server)
        _stop(hello_server)
    shutil.rmtree(logs, ignore_errors=True)
    return rows


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """A page's row: the round with the median ratio (the lower middle one of an even number),
    with the worst p99 of all rounds, every round's errors and the range of the ratios."""
    ordered = sorted(rounds, key=lambda row: row["ratio"])
    row = dict(ordered[(len(ordered) - 1) // 2])
    row["p99_ms"] = max(r["p99_ms"] for r in rounds)
    row["errors"] = sum(r["errors"] for r in rounds)
    row["ratio_range"] = (ordered[0]["ratio"], ordered[-1]["ratio"])
    del row["round"]
    return row


def print_table(rows: list[dict[str, Any]]) -> bool:
    met_all = True
    print(
        f"{'engine':<10} | {'page':<20} | {'req/s':>7} | {'hello':>7} | {'ratio':>6} | "
        f"{'rounds':>9} | {'p50 ms':>7} | {'p99 ms':>7} | {'errors':>6} | target"
    )
    for row in rows:
        met = row["ratio"] >= TARGET_RATIO and row["p99_ms"] <= TARGET_P99_MS and not row["errors"]
        low, high = row["ratio_range"]
        met_all = met_all and met
        print(
            f"{row['engine']:<10} | {row['page']:<20} | {row['rps']:>7.0f} | "
            f"{row['hello_rps']:>7.0f} | {row['ratio']:>5.0%} | "
            f"{low:>3.0%}-{high:<4.0%} | {row['p50_ms']:>7.1f} | "
            f"{row['p99_ms']:>7.1f} | {row['errors']:>6} | {'met' if met else 'MISSED'}"
        )
    return met_all


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--listings", type=int, default=50_000)
    parser.add_argument("--duration", type=int, default=3, help="seconds of each wrk run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="times each page is measured (the median counts)"
    )
    parser.add_argument("--port", type=int, default=8200, help="the app's; hello-world's is +1")
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    parser.add_argument("--build-only", action="store_true", help="build, do not measure")
    parser.add_argument("--pages", nargs="*", help="only pages whose name holds one of these")
    args = parser.parse_args()
    if shutil.which("wrk") is None and not args.build_only:
        parser.error("wrk is missing: apt-get install -y wrk")
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    if args.build_only:
        for engine in engines:
            database(engine, args.listings, args.rebuild)
        return
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script_file:
        script_file.write(WRK_SCRIPT)
    script = Path(script_file.name)
    try:
        rows = []
        for engine in engines:
            rows += measure_engine(engine, args, script)
    finally:
        script.unlink()
    load = os.getloadavg()
    print(
        f"{args.listings} listings, wrk -t2 -c32 -d{args.duration}s, {args.rounds} rounds "
        f"(ratio: the median round's), load {load[0]:.2f}"
    )
    met = print_table(rows)
    print("every target met" if met else "some targets missed")


if __name__ == "__main__":
    main()
