"""Organisation logos: an upload is checked to be an image, and what we keep is a square PNG we
drew from it. The uploaded bytes themselves are never stored or served again, so whatever they
carried (camera and location metadata, a script disguised as a picture, a second file appended)
goes with them.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from matchmaker.core.audit import record_event
from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _
from matchmaker.extensions import db
from matchmaker.organisations.models import Organisation, OrganisationLogo

# What an upload may be: bitmap formats Pillow decodes. SVG is not among them (it can hold
# scripts), nor are formats a browser would not show anyway. MPO is how Pillow names a JPEG
# that carries a second picture (many cameras and phones write one): a JPEG to its owner.
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "MPO", "GIF", "WEBP"})
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# Decoding allocates width x height pixels whatever the file's size: a small file that claims
# 50,000 x 50,000 pixels is refused before it is decoded.
MAX_PIXELS = 25_000_000
SIDE = 256  # the stored square, in pixels: twice the largest size a page shows


def _refuse() -> DomainError:
    return DomainError(_("This file is not an image we can read: send a PNG, JPEG, GIF or WebP."))


def square_png(data: bytes) -> bytes:
    """``data`` drawn afresh as a ``SIDE`` by ``SIDE`` PNG, the picture centred on a transparent
    square (a wide logo is not cropped), without any of the original's metadata."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise DomainError(_("The logo is larger than %(size)s MB: send a smaller file.", size=2))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in ACCEPTED_FORMATS:
                    raise _refuse()
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise DomainError(
                        _(
                            "The image is too large (%(width)d × %(height)d pixels).",
                            width=width,
                            height=height,
                        )
                    )
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                picture = ImageOps.exif_transpose(image).convert("RGBA")
    except DomainError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise _refuse() from error
    picture = ImageOps.contain(picture, (SIDE, SIDE), Image.Resampling.LANCZOS)
    square = Image.new("RGBA", (SIDE, SIDE), (255, 255, 255, 0))
    square.paste(picture, ((SIDE - picture.width) // 2, (SIDE - picture.height) // 2))
    out = io.BytesIO()
    square.save(out, format="PNG", optimize=True)
    return out.getvalue()


def set_logo(*, organisation: Organisation, actor: Any, data: bytes) -> None:
    """Store ``data`` (an upload) as the organisation's logo, re-encoded."""
    image = square_png(data)
    digest = hashlib.sha256(image).hexdigest()[:16]
    logo = db.session.get(OrganisationLogo, organisation.id)
    if logo is None:
        db.session.add(
            OrganisationLogo(organisation_id=organisation.id, image=image, digest=digest)
        )
    else:
        logo.image, logo.digest = image, digest
    organisation.logo_digest = digest
    record_event("organisation:set-logo", actor=actor, subject=organisation)


def remove_logo(*, organisation: Organisation, actor: Any) -> None:
    logo = db.session.get(OrganisationLogo, organisation.id)
    if logo is not None:
        db.session.delete(logo)
    organisation.logo_digest = None
    record_event("organisation:remove-logo", actor=actor, subject=organisation)


def logo_of(organisation: Organisation) -> OrganisationLogo | None:
    return db.session.get(OrganisationLogo, organisation.id)
