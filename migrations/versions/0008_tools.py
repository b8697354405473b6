"""tools: full-text search over stored turns, per-server tool switches, the tools an answer used

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

SQLite gets an FTS5 index over `turns.content` (a contentless table kept current by triggers); PostgreSQL a
GIN index over `to_tsvector('simple', content)`. Both index the rows already stored. A later migration that makes
SQLite rebuild `turns` (batch mode's copy-and-move) must create the triggers again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Contentless FTS5 with the turn's channel as a token of its own column: a search matches `place:c<channel>` AND
# its words, so it ranks only that channel's turns however many the others hold.
SQLITE_UP = [
    "CREATE VIRTUAL TABLE turns_fts USING fts5(content, place, content='', tokenize='porter unicode61')",
    "CREATE TRIGGER turns_fts_insert AFTER INSERT ON turns BEGIN "
    "INSERT INTO turns_fts(rowid, content, place) VALUES (new.id, new.content, 'c' || new.channel_id); END",
    "CREATE TRIGGER turns_fts_delete AFTER DELETE ON turns BEGIN "
    "INSERT INTO turns_fts(turns_fts, rowid, content, place) VALUES "
    "('delete', old.id, old.content, 'c' || old.channel_id); END",
    "CREATE TRIGGER turns_fts_update AFTER UPDATE OF content, channel_id ON turns BEGIN "
    "INSERT INTO turns_fts(turns_fts, rowid, content, place) VALUES "
    "('delete', old.id, old.content, 'c' || old.channel_id); "
    "INSERT INTO turns_fts(rowid, content, place) VALUES (new.id, new.content, 'c' || new.channel_id); END",
    # The turns stored before this migration.
    "INSERT INTO turns_fts(rowid, content, place) SELECT id, content, 'c' || channel_id FROM turns",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS turns_fts_update",
    "DROP TRIGGER IF EXISTS turns_fts_delete",
    "DROP TRIGGER IF EXISTS turns_fts_insert",
    "DROP TABLE IF EXISTS turns_fts",
]
POSTGRES_UP = ["CREATE INDEX ix_turns_content_search ON turns USING gin (to_tsvector('simple', content))"]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_turns_content_search"]


def upgrade() -> None:
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tools_used", sa.String(length=200), nullable=True))
    op.create_table(
        "tool_switches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("tool", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_switches")),
        sa.UniqueConstraint("guild_id", "tool", name="uq_tool_switches_guild_id_tool"),
    )
    for statement in SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN:
        op.execute(statement)
    op.drop_table("tool_switches")
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.drop_column("tools_used")
