"""The wheel is enough to run the app: it is built, installed into a fresh virtual environment
outside the checkout, migrated, loaded with the demo data and served."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from matchmaker import PROJECT_ROOT
from tests.conftest import free_port

# One xdist worker builds and installs the wheel once for the whole module.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("package")]

# What the built wheel is made from, copied so the build never reuses a stale build/ folder.
SOURCES = ("pyproject.toml", "README.md", "matchmaker", "templates", "migrations")
# Where each checkout folder lands inside the wheel.
SHIPPED = {
    "matchmaker": "matchmaker",
    "templates": "matchmaker/templates",
    "migrations": "matchmaker/migrations",
}


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        path = PROJECT_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("dist")
    # No build isolation: setuptools comes from the test extras, so no index is needed.
    pip = (sys.executable, "-m", "pip")
    _run(
        *pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", out, source, cwd=source
    )
    [built] = out.glob("sse_matchmaker-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the wheel installed; returns its python."""
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv)
    python = venv / "bin" / "python"
    site_packages = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=venv
        ).strip()
    )
    # The dependencies come from this environment's site-packages, appended after the new
    # environment's own, so the test needs no package index. A path in a .pth file is added
    # without running the .pth files inside it: the checkout's editable install stays out.
    (site_packages / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "-q",
        "--no-deps",
        wheel,
        cwd=venv,
    )
    return python


def test_the_wheel_holds_every_file_of_the_package_templates_and_migrations(
    wheel: Path,
) -> None:
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    missing = [
        f"{SHIPPED[folder]}/{path.relative_to(PROJECT_ROOT / folder).as_posix()}"
        for folder in SHIPPED
        for path in (PROJECT_ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert [name for name in missing if name not in in_wheel] == []


def test_the_installed_package_migrates_loads_the_demo_and_serves_pages(
    installed: Path, tmp_path: Path
) -> None:
    venv_bin = installed.parent
    env = {
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "MATCHMAKER_ENV": "production",
        "MATCHMAKER_SECRET_KEY": "only-for-this-test",
        "MATCHMAKER_DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "MATCHMAKER_MAIL_BACKEND": "console",
        "MATCHMAKER_RATELIMIT_ENABLED": "false",  # no Redis needed for three pages
    }
    where = _run(installed, "-c", "import matchmaker; print(matchmaker.__file__)", cwd=tmp_path)
    assert Path(where.strip()).is_relative_to(installed.parent.parent)

    flask = (installed, "-m", "flask", "--app", "matchmaker")
    _run(*flask, "db", "upgrade", cwd=tmp_path, env=env)
    assert "organisations: 17 created" in _run(*flask, "demo", "load", cwd=tmp_path, env=env)

    port = free_port()
    log = tmp_path / "gunicorn.log"
    with (
        log.open("wb") as output,
        subprocess.Popen(
            [installed, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "matchmaker:create_app()"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        ) as server,
    ):
        try:
            home = _get_when_up(f"http://127.0.0.1:{port}/", server, log)
            needs = _get_when_up(f"http://127.0.0.1:{port}/needs", server, log)
            css = _get_when_up(f"http://127.0.0.1:{port}/static/css/app.css", server, log)
        finally:
            server.terminate()
    assert "SSE Matchmaker" in home
    assert "Heseltine" in needs or "Social Enterprise Network" in needs
    assert css


def _get_when_up(url: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> str:
    # gunicorn listens before its worker has loaded the app: on a busy machine the first
    # answer can take seconds.
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                assert response.status == 200
                return str(response.read().decode())
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"the server did not answer {url}:\n{log.read_text()}"
                ) from None
            time.sleep(0.2)
