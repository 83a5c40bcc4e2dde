from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField

from matchmaker.core.forms import Form


class ImportForm(Form):
    file = FileField(
        _l("File"),
        validators=[
            FileRequired(message=_l("Choose a file to import.")),
            FileAllowed(["json", "zip"], message=_l("Upload a .json file or a .zip of CSV files.")),
        ],
        description=_l(
            "A JSON document, or a zip holding organisations.csv, contacts.csv and listings.csv."
        ),
    )
    dry_run = BooleanField(_l("Only check the file; save nothing"))
    unverified = BooleanField(_l("New organisations wait for verification"))
