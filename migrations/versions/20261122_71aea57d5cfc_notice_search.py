"""notice search: substring index for the portal's keyword search

SQLite: an FTS5 table with the trigram tokenizer (any substring of 3+ characters, Chinese
included) over the searched columns, kept in step with ``notices`` by triggers; its rows are
keyed through ``notice_search_keys`` (an INTEGER PRIMARY KEY, stable across VACUUM, unlike
the implicit rowid of ``notices``).
PostgreSQL: the pg_trgm extension and a GIN trigram index per searched column, which serve
``LIKE '%…%'`` directly (the planner re-checks every candidate).
Both: the listing index ``ix_notices_portal`` also carries the filter columns (covering the
capped count of a filtered listing).

Revision ID: 71aea57d5cfc
Revises: 6d148100183f
Create Date: 2026-11-22 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "71aea57d5cfc"
down_revision: str | None = "6d148100183f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("title", "tender_project_code", "tenderer_name")

SQLITE_UP = [
    """CREATE TABLE notice_search_keys (
        key INTEGER PRIMARY KEY,
        notice_id VARCHAR(32) NOT NULL,
        CONSTRAINT uq_notice_search_keys_notice_id UNIQUE (notice_id)
    )""",
    """CREATE VIRTUAL TABLE notices_fts USING fts5(
        notice_id UNINDEXED, title, tender_project_code, tenderer_name, tokenize = 'trigram'
    )""",
    """CREATE TRIGGER notices_search_insert AFTER INSERT ON notices BEGIN
        INSERT INTO notice_search_keys (notice_id) VALUES (new.id);
        INSERT INTO notices_fts (rowid, notice_id, title, tender_project_code, tenderer_name)
        VALUES (
            (SELECT key FROM notice_search_keys WHERE notice_id = new.id),
            new.id, new.title, new.tender_project_code, new.tenderer_name
        );
    END""",
    """CREATE TRIGGER notices_search_update
    AFTER UPDATE OF id, title, tender_project_code, tenderer_name ON notices BEGIN
        DELETE FROM notices_fts
        WHERE rowid = (SELECT key FROM notice_search_keys WHERE notice_id = old.id);
        UPDATE notice_search_keys SET notice_id = new.id WHERE notice_id = old.id;
        INSERT INTO notices_fts (rowid, notice_id, title, tender_project_code, tenderer_name)
        VALUES (
            (SELECT key FROM notice_search_keys WHERE notice_id = new.id),
            new.id, new.title, new.tender_project_code, new.tenderer_name
        );
    END""",
    """CREATE TRIGGER notices_search_delete AFTER DELETE ON notices BEGIN
        DELETE FROM notices_fts
        WHERE rowid = (SELECT key FROM notice_search_keys WHERE notice_id = old.id);
        DELETE FROM notice_search_keys WHERE notice_id = old.id;
    END""",
    # Index what is already there.
    "INSERT INTO notice_search_keys (notice_id) SELECT id FROM notices ORDER BY rowid",
    """INSERT INTO notices_fts (rowid, notice_id, title, tender_project_code, tenderer_name)
    SELECT k.key, n.id, n.title, n.tender_project_code, n.tenderer_name
    FROM notices AS n JOIN notice_search_keys AS k ON k.notice_id = n.id""",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS notices_search_delete",
    "DROP TRIGGER IF EXISTS notices_search_update",
    "DROP TRIGGER IF EXISTS notices_search_insert",
    "DROP TABLE IF EXISTS notices_fts",
    "DROP TABLE IF EXISTS notice_search_keys",
]


PORTAL_OLD = ["public", "published_at", "id"]
PORTAL_NEW = [*PORTAL_OLD, "status", "category", "method", "region_code", "kind"]


def _portal_index(columns: list[str]) -> None:
    """The listing index, read backwards in date order; with the filter columns in it, the
    capped count of a filtered listing never reads the table."""
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_portal")
        batch_op.create_index("ix_notices_portal", columns, unique=False)


def upgrade() -> None:
    _portal_index(PORTAL_NEW)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_UP:
            op.execute(sa.text(statement))
    elif dialect == "postgresql":
        op.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        for column in COLUMNS:
            op.create_index(
                f"ix_notices_{column}_trgm",
                "notices",
                [column],
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(sa.text(statement))
    elif dialect == "postgresql":
        for column in COLUMNS:
            op.drop_index(f"ix_notices_{column}_trgm", table_name="notices")
        # The extension stays: other objects may use it, and dropping it needs ownership.
    _portal_index(PORTAL_OLD)
