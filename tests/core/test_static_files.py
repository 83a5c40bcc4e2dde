import re

from flask import Flask
from flask.testing import FlaskClient

from matchmaker.core.static_files import fingerprints


def test_static_files_have_fingerprinted_addresses_kept_a_year(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    address = re.search(r'href="(/static/css/app\.css\?v=[0-9a-f]{12})"', page)
    assert address, page
    with client.get(address.group(1)) as answer:
        assert answer.status_code == 200
        assert "max-age=31536000" in answer.headers["Cache-Control"]
        assert "immutable" in answer.headers["Cache-Control"]
    # Another version's address is not promised to last.
    with client.get("/static/css/app.css?v=000000000000") as stale:
        assert "immutable" not in stale.headers.get("Cache-Control", "")


def test_a_fingerprint_changes_with_the_content(app: Flask, tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "css").mkdir()
    (folder / "css" / "a.css").write_text("body { color: black }")
    before = fingerprints(folder)
    (folder / "css" / "a.css").write_text("body { color: navy }")
    assert set(before) == {"css/a.css"}
    assert fingerprints(folder)["css/a.css"] != before["css/a.css"]
