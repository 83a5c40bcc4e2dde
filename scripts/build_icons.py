"""Build static/vendor/lucide/icons.svg: one <symbol> for each icon the app names (kinds,
themes, PAGE_ICONS), copied from the npm package lucide-static (``make vendor`` runs this after
``npm ci``), with the package's licence beside it."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matchmaker.core.icons import PAGE_ICONS, SPRITE  # noqa: E402
from matchmaker.listings.models import DEFAULT_THEME_ICON, THEME_ICONS  # noqa: E402
from matchmaker.organisations.models import KIND_ICONS  # noqa: E402

PACKAGE = ROOT / "node_modules" / "lucide-static"
TARGET = ROOT / "matchmaker" / "static" / SPRITE


def symbol(name: str) -> str:
    source = (PACKAGE / "icons" / f"{name}.svg").read_text(encoding="utf-8")
    body = re.search(r"<svg[^>]*>(.*)</svg>", source, re.S)
    if body is None:
        raise SystemExit(f"{name}.svg is not an SVG we understand")
    shapes = " ".join(line.strip() for line in body.group(1).splitlines() if line.strip())
    return f'<symbol id="{name}" viewBox="0 0 24 24">{shapes}</symbol>'


def main() -> None:
    names = sorted({*KIND_ICONS.values(), *THEME_ICONS.values(), DEFAULT_THEME_ICON, *PAGE_ICONS})
    version = re.search(
        r'"version":\s*"([^"]+)"', (PACKAGE / "package.json").read_text(encoding="utf-8")
    )
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(
        f"<!-- Lucide icons (lucide-static {version.group(1) if version else '?'}, ISC licence: "
        "LICENSE beside this file), the ones SSE Matchmaker uses. Built by scripts/build_icons.py."
        ' -->\n<svg xmlns="http://www.w3.org/2000/svg" fill="none" stroke="currentColor" '
        'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">\n'
        + "\n".join(symbol(name) for name in names)
        + "\n</svg>\n",
        encoding="utf-8",
    )
    shutil.copy(PACKAGE / "LICENSE", TARGET.parent / "LICENSE")
    print(f"{TARGET.relative_to(ROOT)}: {len(names)} icons")


if __name__ == "__main__":
    main()
