from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from matchmaker.core.spreadsheets import write_csv_file
from matchmaker.extensions import db
from matchmaker.interchange.csv_tables import tables_from_document
from matchmaker.interchange.document import UnreadableFile
from matchmaker.interchange.files import read_path
from matchmaker.interchange.services import ImportRefused, export_document, import_document
from matchmaker.matching.cli import run_command

data_cli = AppGroup("data", help="Import and export organisations and listings.")


@data_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only validate; save nothing.")
@click.option("--unverified", is_flag=True, help="New organisations wait for verification.")
@click.option(
    "--no-match",
    is_flag=True,
    help="Leave the imported listings to the next matcher run (nightly, or `match run`).",
)
def import_command(path: Path, dry_run: bool, unverified: bool, no_match: bool) -> None:
    """Import PATH (JSON file, or folder of CSV files), all or nothing; then match the listings
    it created or updated with a full matcher run, as the Data page does."""
    try:
        document = read_path(path)
        report = import_document(document, verify=not unverified)
    except UnreadableFile as error:
        raise click.ClickException(f"{path}: {error}") from error
    except ImportRefused as refused:
        db.session.rollback()
        for line in refused.problems.lines():
            click.echo(line, err=True)
        raise click.ClickException(
            f"{refused.problems.total} problem(s) found; nothing was imported."
        ) from refused
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run, nothing saved. Would import: {report.summary()}")
        return
    db.session.commit()
    click.echo(f"Imported: {report.summary()}")
    if report.created["listings"] or report.updated["listings"]:
        if no_match:
            click.echo("Run `flask --app wsgi match run` to match the imported listings.")
        else:
            # One full run for the whole file, as the Data page starts (not one run a listing).
            try:
                click.get_current_context().invoke(run_command, wait=True)
            except click.ClickException as error:
                raise click.ClickException(
                    f"The file is imported, but matching it failed: {error.message} "
                    "Run `flask --app wsgi match run` to match the imported listings."
                ) from error


@data_cli.command("export")
@click.option("--out", type=click.Path(path_type=Path), help="File (JSON) or folder (CSV).")
@click.option(
    "--format", "format_", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
def export_command(out: Path | None, format_: str) -> None:
    """Export every organisation and listing (to standard output unless --out is given)."""
    document = export_document()
    if format_ == "json":
        text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
        if out is None:
            click.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
            click.echo(f"Wrote {out}", err=True)
        return
    if out is None:
        raise click.UsageError("CSV export needs --out FOLDER")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in tables_from_document(document).items():
        write_csv_file(out / f"{name}.csv", text)
    click.echo(f"Wrote organisations.csv, contacts.csv and listings.csv in {out}", err=True)
