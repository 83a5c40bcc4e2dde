"""Themes (with the 15 of the product brief), listings, and full-text search over listings.

Revision ID: abe3fcd0a245
Revises: bda1055a95a8
Create Date: 2026-11-24 19:34:33.912332
"""

import sqlalchemy as sa
from alembic import op

import matchmaker.db

revision = "abe3fcd0a245"
down_revision = "bda1055a95a8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("is_retired", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "updated_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
        sa.UniqueConstraint("slug", name=op.f("uq_themes_slug")),
    )
    op.create_table(
        "listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("need", "offer", "challenge", name="listingkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum(
                "local",
                "regional",
                "national",
                "international",
                name="scope",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("open", "paused", "closed", name="listingstatus", native_enum=False, length=32),
            server_default="open",
            nullable=False,
        ),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", matchmaker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            matchmaker.db.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_listings_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_listings_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index("ix_listings_kind_status", ["kind", "status"], unique=False)
        batch_op.create_index("ix_listings_organisation_id", ["organisation_id"], unique=False)

    op.create_table(
        "listing_sought_kinds",
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "sse_organisation",
                "academic_institution",
                "public_agency",
                "private_sector",
                "civil_society",
                name="organisationkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_listing_sought_kinds_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("listing_id", "kind", name=op.f("pk_listing_sought_kinds")),
    )
    op.create_table(
        "listing_themes",
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_listing_themes_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_listing_themes_theme_id_themes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("listing_id", "theme_id", name=op.f("pk_listing_themes")),
    )
    with op.batch_alter_table("listing_themes", schema=None) as batch_op:
        batch_op.create_index("ix_listing_themes_theme_id", ["theme_id"], unique=False)

    _insert_themes()
    _create_search_index()


def downgrade() -> None:
    _drop_search_index()
    with op.batch_alter_table("listing_themes", schema=None) as batch_op:
        batch_op.drop_index("ix_listing_themes_theme_id")

    op.drop_table("listing_themes")
    op.drop_table("listing_sought_kinds")
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index("ix_listings_organisation_id")
        batch_op.drop_index("ix_listings_kind_status")

    op.drop_table("listings")
    op.drop_table("themes")


THEMES = [
    (
        "research-evaluation",
        "Research, evaluation and impact measurement",
        "Research on the social economy, evaluation of programmes and measuring social impact.",
    ),
    (
        "knowledge-exchange",
        "Knowledge exchange between academia and practice",
        "Universities and practitioners learning from each other and co-producing knowledge.",
    ),
    (
        "policy-strategy",
        "Local SSE policy and strategy",
        "Designing and steering local and regional strategies for the social economy.",
    ),
    (
        "social-inclusion",
        "Social and active inclusion of people at risk of poverty",
        "Active inclusion partnerships for people at high risk of poverty and exclusion.",
    ),
    (
        "social-innovation",
        "Social innovation",
        "New ideas, services and ways of organising that meet social needs.",
    ),
    (
        "incubation-entrepreneurship",
        "Incubation and entrepreneurship support",
        "Incubators and support for people starting social and solidarity enterprises.",
    ),
    (
        "training-advice",
        "Training, technical and professional advice",
        "Training, mentoring and technical or professional advice for SSE organisations.",
    ),
    (
        "market-access",
        "Market access and public procurement",
        "Access to markets for SSE enterprises, including social clauses in public purchasing.",
    ),
    (
        "funding",
        "Funding and investment (public, national, EU)",
        "Public, national and EU funding, and social investment.",
    ),
    (
        "territorial-platforms",
        "Networks and territorial SSE platforms",
        "Networks and platforms that bring the actors of a territory together.",
    ),
    (
        "participation",
        "Public consultation and participation",
        "Open consultation and citizens' participation in SSE policy.",
    ),
    (
        "information",
        "Information for project developers and policy makers",
        "Information and tools for SSE project developers and the people who make policy.",
    ),
    (
        "basic-needs",
        "Housing, food and psycho-social support",
        "Accommodation, food and psycho-social support for people in vulnerable situations.",
    ),
    (
        "work-integration",
        "Work integration and employment",
        "Jobs and work integration for people far from the labour market.",
    ),
    (
        "local-wealth",
        "Local wealth generation and fair distribution",
        "Community wealth building and a fairer distribution of resources in a place.",
    ),
]


def _insert_themes() -> None:
    themes = sa.table(
        "themes",
        sa.column("slug", sa.String),
        sa.column("name", sa.String),
        sa.column("description", sa.Text),
    )
    op.bulk_insert(themes, [{"slug": s, "name": n, "description": d} for s, n, d in THEMES])


# Full-text search over title (weighted higher) and description. PostgreSQL keeps a generated
# tsvector column with a GIN index; SQLite keeps an FTS5 index in step through triggers.

SQLITE_TRIGGERS = {
    "listings_fts_insert": """
        CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings BEGIN
          INSERT INTO listings_fts(rowid, title, description)
          VALUES (new.id, new.title, new.description);
        END""",
    "listings_fts_delete": """
        CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
          INSERT INTO listings_fts(listings_fts, rowid, title, description)
          VALUES ('delete', old.id, old.title, old.description);
        END""",
    "listings_fts_update": """
        CREATE TRIGGER listings_fts_update AFTER UPDATE OF title, description ON listings BEGIN
          INSERT INTO listings_fts(listings_fts, rowid, title, description)
          VALUES ('delete', old.id, old.title, old.description);
          INSERT INTO listings_fts(rowid, title, description)
          VALUES (new.id, new.title, new.description);
        END""",
}


def _create_search_index() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            """
            ALTER TABLE listings ADD COLUMN search_vector tsvector
            GENERATED ALWAYS AS (
              setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
              setweight(to_tsvector('english', coalesce(description, '')), 'B')
            ) STORED
            """
        )
        op.execute("CREATE INDEX ix_listings_search_vector ON listings USING gin (search_vector)")
    elif dialect == "sqlite":
        op.execute(
            """
            CREATE VIRTUAL TABLE listings_fts USING fts5(
              title, description, content='listings', content_rowid='id',
              tokenize='porter unicode61 remove_diacritics 2'
            )
            """
        )
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)
        op.execute("INSERT INTO listings_fts(listings_fts) VALUES ('rebuild')")


def _drop_search_index() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_listings_search_vector")
        op.execute("ALTER TABLE listings DROP COLUMN IF EXISTS search_vector")
    elif dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS listings_fts")
