"""Organisation logos: uploaded, checked, re-encoded and served safely; initials without one."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from PIL import Image

from matchmaker.extensions import db
from matchmaker.organisations.logos import MAX_UPLOAD_BYTES
from matchmaker.organisations.models import Organisation, OrganisationLogo, OrganisationStatus
from tests.factories import make_listing, make_organisation, make_user


def picture(
    size: tuple[int, int] = (400, 200), fmt: str = "JPEG", exif: bool = False, **save: Any
) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SecretCam"  # Make
        tags[0x8825] = {2: (51, 30, 0)}  # GPS latitude
        save["exif"] = tags
    image.save(out, format=fmt, **save)
    return out.getvalue()


def upload(client: FlaskClient, organisation: Organisation, data: bytes, name: str = "logo.jpg"):  # type: ignore[no-untyped-def]
    # The body is built here: the test client's own encoder leaves a temporary file open for
    # bodies over 500 kB, which the warnings-as-errors setting reports.
    boundary = "----logo-upload-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="logo"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        f"/organisations/{organisation.id}/logo",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


@pytest.fixture
def owned(login: Any) -> Organisation:
    owner = make_user()
    organisation = make_organisation(owner=owner, name="Wirral Food Cooperative")
    login(owner)
    return organisation


def test_an_uploaded_logo_is_stored_as_a_square_png_without_its_metadata(
    client: FlaskClient, owned: Organisation
) -> None:
    original = picture(exif=True)
    assert b"SecretCam" in original
    response = upload(client, owned, original)
    assert response.status_code == 302
    stored = db.session.get(OrganisationLogo, owned.id)
    assert stored is not None
    assert stored.image != original
    assert b"SecretCam" not in stored.image
    with Image.open(io.BytesIO(stored.image)) as image:
        assert image.format == "PNG"
        assert image.size == (256, 256)
        assert not image.getexif()
        # A wide logo is not cropped: the square is padded with transparency above and below.
        assert image.getpixel((128, 10))[3] == 0
        red, green, blue, alpha = image.getpixel((128, 128))
        assert alpha == 255 and red > 190 and green < 40 and blue < 40
    db.session.refresh(owned)
    assert owned.logo_digest == stored.digest


def test_a_camera_jpeg_with_a_second_picture_is_accepted_as_the_jpeg_it_is(
    client: FlaskClient, owned: Organisation
) -> None:
    # Cameras and phones write a preview after the picture (the JPEG's MP extension): Pillow
    # names such a file MPO. Its owner sent a JPEG, and the form asked for one.
    out = io.BytesIO()
    first, second = Image.new("RGB", (300, 300), (200, 30, 30)), Image.new("RGB", (80, 80))
    first.save(out, format="MPO", save_all=True, append_images=[second])
    with Image.open(io.BytesIO(out.getvalue())) as opened:
        assert opened.format == "MPO"
    response = upload(client, owned, out.getvalue(), "photo.jpg")
    assert response.status_code == 302
    stored = db.session.get(OrganisationLogo, owned.id)
    assert stored is not None
    with Image.open(io.BytesIO(stored.image)) as image:
        assert image.format == "PNG"
        red, green, blue, _alpha = image.getpixel((128, 128))
        assert red > 190 and green < 40 and blue < 40  # the picture, not its preview


def test_the_logo_is_served_as_png_with_safe_and_cache_headers(
    client: FlaskClient, owned: Organisation
) -> None:
    upload(client, owned, picture(fmt="PNG"), "logo.png")
    db.session.refresh(owned)
    page = client.get(f"/organisations/{owned.id}").get_data(as_text=True)
    address = f"/organisations/{owned.id}/logo.png?v={owned.logo_digest}"
    assert address in page
    assert 'alt="Logo of Wirral Food Cooperative"' in page

    response = client.get(address)
    assert response.status_code == 200
    assert response.content_type == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response.headers["Cache-Control"]
    assert "public" in response.headers["Cache-Control"]
    # Without the version it is asked for again, and a browser that has it gets 304.
    plain = client.get(f"/organisations/{owned.id}/logo.png")
    assert "no-cache" in plain.headers["Cache-Control"]
    again = client.get(
        f"/organisations/{owned.id}/logo.png", headers={"If-None-Match": plain.headers["ETag"]}
    )
    assert again.status_code == 304


def test_an_unverified_organisations_logo_is_hidden_from_others(
    client: FlaskClient, login: Any
) -> None:
    owner = make_user()
    organisation = make_organisation(owner=owner, status=OrganisationStatus.PENDING)
    login(owner)
    upload(client, organisation, picture())
    mine = client.get(f"/organisations/{organisation.id}/logo.png")
    assert mine.status_code == 200
    assert "public" not in mine.headers["Cache-Control"]
    client.post("/logout")
    assert client.get(f"/organisations/{organisation.id}/logo.png").status_code == 404


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.svg"),
        (b"GIF89a this is not really a picture", "logo.gif"),
        (b"%PDF-1.4 a document", "logo.png"),
        (picture(fmt="BMP"), "logo.bmp"),
        (picture()[:200], "cut.jpg"),
    ],
)
def test_what_is_not_an_image_we_read_is_refused_with_a_clear_message(
    client: FlaskClient, owned: Organisation, data: bytes, name: str
) -> None:
    response = upload(client, owned, data, name)
    assert response.status_code == 422
    assert "This file is not an image we can read" in response.get_data(as_text=True)
    assert db.session.get(OrganisationLogo, owned.id) is None


def test_a_file_over_the_size_limit_is_refused_with_a_clear_message(
    client: FlaskClient, owned: Organisation
) -> None:
    response = upload(client, owned, b"\xff" * (MAX_UPLOAD_BYTES + 1))
    assert response.status_code == 422
    assert "The logo is larger than 2 MB" in response.get_data(as_text=True)


def test_a_picture_claiming_too_many_pixels_is_refused_before_it_is_decoded(
    client: FlaskClient, owned: Organisation
) -> None:
    huge = picture(size=(6000, 5000), fmt="PNG")  # compresses to a few kB
    assert len(huge) < MAX_UPLOAD_BYTES
    response = upload(client, owned, huge, "huge.png")
    assert response.status_code == 422
    assert "The image is too large" in response.get_data(as_text=True)


def test_only_the_owner_uploads_or_removes_a_logo(client: FlaskClient, login: Any) -> None:
    organisation = make_organisation()
    member = make_user()
    login(member)
    assert upload(client, organisation, picture()).status_code == 403
    assert client.post(f"/organisations/{organisation.id}/logo/remove").status_code == 403


def test_removing_the_logo_brings_back_the_initials(
    client: FlaskClient, owned: Organisation
) -> None:
    upload(client, owned, picture())
    client.post(f"/organisations/{owned.id}/logo/remove")
    assert db.session.get(OrganisationLogo, owned.id) is None
    assert client.get(f"/organisations/{owned.id}/logo.png").status_code == 404
    page = client.get(f"/organisations/{owned.id}").get_data(as_text=True)
    assert 'aria-label="Initials of Wirral Food Cooperative">WF</span>' in page


def test_initials_stand_in_on_the_directory_and_listing_pages(client: FlaskClient) -> None:
    organisation = make_organisation(name="Κοινωνική Κουζίνα Αθήνας")
    listing = make_listing(organisation=organisation)
    directory = client.get("/organisations").get_data(as_text=True)
    assert 'aria-hidden="true">ΚΚ</span>' in directory
    assert 'aria-hidden="true">ΚΚ</span>' in client.get("/needs").get_data(as_text=True)
    assert 'aria-hidden="true">ΚΚ</span>' in client.get(f"/listings/{listing.id}").get_data(
        as_text=True
    )


def test_initials_pass_over_small_words() -> None:
    assert Organisation(name="University of Liverpool – Heseltine Institute").initials == "UL"
    assert Organisation(name="جمعية التنمية المحلية").initials == "جا"
    assert Organisation(name="emergent").initials == "E"
