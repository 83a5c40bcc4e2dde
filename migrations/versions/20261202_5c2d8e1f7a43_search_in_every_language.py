"""Search in every language: the full-text index holds each word of a listing's title and
description and its Snowball stem in the listing's language (listings.search_title and
search_body, core/words.py), on both engines, instead of English stems (FTS5's porter,
PostgreSQL's 'english' configuration).

After a bulk load that wrote listings without the app, `flask --app wsgi match reindex`
recomputes these columns with the matcher's words.

Revision ID: 5c2d8e1f7a43
Revises: 413f15638f6d
Create Date: 2026-12-02 04:40:00
"""

import sqlalchemy as sa
from alembic import op

from matchmaker.core.words import search_words

revision = "5c2d8e1f7a43"
down_revision = "413f15638f6d"
branch_labels = None
depends_on = None

BATCH = 2000

SQLITE_TRIGGERS = {
    "listings_fts_insert": """
        CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings BEGIN
          INSERT INTO listings_fts(rowid, {columns}) VALUES (new.id, {new});
        END""",
    "listings_fts_delete": """
        CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
          INSERT INTO listings_fts(listings_fts, rowid, {columns})
          VALUES ('delete', old.id, {old});
        END""",
    "listings_fts_update": """
        CREATE TRIGGER listings_fts_update AFTER UPDATE OF {columns} ON listings BEGIN
          INSERT INTO listings_fts(listings_fts, rowid, {columns})
          VALUES ('delete', old.id, {old});
          INSERT INTO listings_fts(rowid, {columns}) VALUES (new.id, {new});
        END""",
}


def _sqlite_index(first: str, second: str, tokenize: str) -> None:
    op.execute(
        f"""
        CREATE VIRTUAL TABLE listings_fts USING fts5(
          {first}, {second}, content='listings', content_rowid='id', tokenize='{tokenize}'
        )
        """
    )
    names = {
        "columns": f"{first}, {second}",
        "new": f"new.{first}, new.{second}",
        "old": f"old.{first}, old.{second}",
    }
    for statement in SQLITE_TRIGGERS.values():
        op.execute(statement.format(**names))
    op.execute("INSERT INTO listings_fts(listings_fts) VALUES ('rebuild')")


def _drop_index(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_listings_search_vector")
        op.execute("ALTER TABLE listings DROP COLUMN IF EXISTS search_vector")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS listings_fts")


def _postgres_index(config: str, first: str, second: str) -> None:
    op.execute(
        f"""
        ALTER TABLE listings ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (
          setweight(to_tsvector('{config}', coalesce({first}, '')), 'A') ||
          setweight(to_tsvector('{config}', coalesce({second}, '')), 'B')
        ) STORED
        """
    )
    op.execute("CREATE INDEX ix_listings_search_vector ON listings USING gin (search_vector)")


def _fill() -> None:
    """Every listing's indexed words, in batches (by id)."""
    bind = op.get_bind()
    listings = sa.table(
        "listings",
        sa.column("id", sa.Integer),
        sa.column("search_title", sa.Text),
        sa.column("search_body", sa.Text),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, title, description, language FROM listings WHERE id > :last "
                "ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            return
        bind.execute(
            listings.update()
            .where(listings.c.id == sa.bindparam("listing_id"))
            .values(search_title=sa.bindparam("title"), search_body=sa.bindparam("body")),
            [
                {
                    "listing_id": lid,
                    "title": search_words(title or "", language),
                    "body": search_words(description or "", language),
                }
                for lid, title, description, language in rows
            ],
        )
        last = rows[-1][0]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_index(dialect)
    op.add_column("listings", sa.Column("search_title", sa.Text(), nullable=True))
    op.add_column("listings", sa.Column("search_body", sa.Text(), nullable=True))
    _fill()
    if dialect == "postgresql":
        _postgres_index("simple", "search_title", "search_body")
    else:
        _sqlite_index("search_title", "search_body", "unicode61 remove_diacritics 2")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_index(dialect)
    with op.batch_alter_table("listings") as batch:
        batch.drop_column("search_body")
        batch.drop_column("search_title")
    if dialect == "postgresql":
        _postgres_index("english", "title", "description")
    else:
        _sqlite_index("title", "description", "porter unicode61 remove_diacritics 2")
