"""A real server (gunicorn, on a database built by the migrations, with the demo data), the
SMTP sink, and Debian's Chromium driven by Playwright.

Run with ``make test-browser``. Chromium tries to reach outside hosts in the background, so CI
runs these tests in a network namespace that has only loopback (see .ci/run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SMTPSink, free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("MATCHMAKER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=AutofillServerCommunication",
]
SCREENSHOTS = ROOT / "screenshots"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, smtp_sink: SMTPSink) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    folder = tmp_path_factory.mktemp("live")
    env = {
        **os.environ,
        "MATCHMAKER_ENV": "production",
        "MATCHMAKER_SECRET_KEY": "browser-tests-only",
        "MATCHMAKER_DATABASE_URL": f"sqlite:///{folder / 'live.sqlite3'}",
        "MATCHMAKER_BASE_URL": url,
        "MATCHMAKER_MAIL_SERVER": "127.0.0.1",
        "MATCHMAKER_MAIL_PORT": str(smtp_sink.port),
        "MATCHMAKER_SECURE_COOKIES": "false",
        "MATCHMAKER_RATELIMIT_ENABLED": "false",
        "MATCHMAKER_INSTANCE_PATH": str(folder),
    }
    bin_dir = Path(sys.executable).parent
    flask = [str(bin_dir / "flask"), "--app", "wsgi"]
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run(
            [*flask, *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    log = (folder / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--no-control-socket",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise RuntimeError((folder / "gunicorn.log").read_text()) from None
            time.sleep(0.2)
    yield url
    server.terminate()
    try:
        # Gunicorn lets its workers finish for up to 30 s; on a loaded machine 10 s was too short.
        server.wait(timeout=40)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed: run make test-browser"
    )
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"No Chromium at {CHROMIUM}: apt-get install chromium, then make test-browser")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any, live_server: str) -> Iterator[Any]:
    """A function that opens a page in a fresh browser context (a separate person)."""
    contexts = []

    def open_page(
        width: int = 1280,
        bypass_csp: bool = False,
        locale: str = "en-GB",
        javascript: bool = True,
    ) -> Any:
        """``locale`` is the browser's language (its Accept-Language header)."""
        context = browser.new_context(
            base_url=live_server,
            viewport={"width": width, "height": 900},
            bypass_csp=bypass_csp,
            locale=locale,
            java_script_enabled=javascript,
        )
        context.set_default_timeout(10000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


DEMO_PASSWORD = "demo-password"


def sign_in(page: Any, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form, found by its fields' names (its labels are in the page's
    language), then read the browser's language."""
    page.goto("/login")
    page.locator("main input[name=email]").fill(email)
    page.locator("main input[name=password]").fill(password)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/login" not in url)
    read_the_browsers_language(page)


def read_the_browsers_language(page: Any) -> None:
    """A member whose organisation lies in a territory reads its language (Attica's Greek)
    unless they chose one: the people of these tests choose their browser's, in the header."""
    wanted = page.evaluate("navigator.language").split("-")[0]
    if page.locator("html").get_attribute("lang") != wanted:
        page.locator("#switch-language").select_option(wanted)
        page.locator(".language-switcher button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == wanted
