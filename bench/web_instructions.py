"""What one stored page costs the app, in instructions (callgrind) or CPU time, on the database
bench/web.py built, in its production settings (the cache and rate limits in Redis, the request
log line written).

    .venv/bin/python bench/web_instructions.py /coordination/dashboard            # CPU µs
    .venv/bin/python bench/web_instructions.py --callgrind /coordination/dashboard

The coordinator signs in through the sign-in form; then the WSGI app is called directly with
that session (no server, no socket) for --requests requests after a warm-up. With --callgrind
the script runs itself under valgrind (Debian package ``valgrind``) and counts the instructions
of the measured requests only (``callgrind_control`` turns counting on and off around them):
the same count for the same code and data whatever else the machine is doing, where timings on
a shared machine move by a quarter. A visitor's page is measured without signing in (--visitor).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import web  # noqa: E402

# Set in the child that runs under valgrind.
UNDER_CALLGRIND = "BENCH_WEB_INSTRUCTIONS_CHILD"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--listings", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--visitor", action="store_true", help="signed out")
    parser.add_argument("--callgrind", action="store_true", help="count instructions")
    args = parser.parse_args()
    if args.callgrind and UNDER_CALLGRIND not in os.environ:
        counted = count_instructions(sys.argv[1:], args.requests)
        print(f"{args.path}: {counted:,.0f} instructions a request")
        return
    # Built by bench/web.py when missing, brought up to date by the migrations.
    os.environ.update(web.app_environment(web.database(args.engine, args.listings, False)))
    web.empty_cache()
    one = stored_page_request(args.path, signed_in=not args.visitor)
    for _ in range(30):  # builds and stores the page, compiles what the request uses
        one()
    if UNDER_CALLGRIND in os.environ:
        toggle = ["callgrind_control", "--instr=on", str(os.getpid())]
        subprocess.run(toggle, check=True, capture_output=True)  # noqa: S603
        for _ in range(args.requests):
            one()
        toggle[1] = "--instr=off"
        subprocess.run(toggle, check=True, capture_output=True)  # noqa: S603
        return
    started = time.process_time()
    for _ in range(args.requests):
        one()
    spent = (time.process_time() - started) / args.requests
    print(f"{args.path}: {spent * 1e6:,.0f} µs of CPU a request")


def count_instructions(arguments: list[str], requests: int) -> float:
    """Run this script under callgrind, counting only the measured requests."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            *arguments,
        ]
        # Hash randomisation off: the same dictionaries, the same count from run to run.
        env = {**os.environ, UNDER_CALLGRIND: "1", "PYTHONHASHSEED": "0"}
        subprocess.run(command, check=True, env=env, capture_output=True)  # noqa: S603
        totals = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
        assert totals, "callgrind wrote no total"
        return int(totals.group(1)) / requests


def stored_page_request(path: str, signed_in: bool) -> Any:
    """A function that asks the app for ``path`` once, as the benchmark's client would."""
    from werkzeug.test import EnvironBuilder

    from matchmaker import create_app

    app = create_app()
    headers = {"User-Agent": web.USER_AGENT}
    if signed_in:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "127.0.0.1"
        form = client.get("/login", headers=headers).get_data(as_text=True)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', form)
        assert token, "no CSRF token on the sign-in page"
        email, password = web.COORDINATOR
        data = {"csrf_token": token.group(1), "email": email, "password": password}
        client.post("/login", data=data, headers=headers, follow_redirects=True)
        cookie = client.get_cookie("session")
        assert cookie is not None, "signing in gave no session cookie"
        headers["Cookie"] = f"session={cookie.value}"
    path, _, query = path.partition("?")
    environ = EnvironBuilder(
        path=path, query_string=query, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ).get_environ()

    def start_response(status: str, _headers: Any, _exc_info: Any = None) -> None:
        assert status.startswith("200"), status

    def one() -> None:
        body = app(dict(environ), start_response)
        b"".join(body)
        getattr(body, "close", lambda: None)()

    return one


if __name__ == "__main__":
    main()
