"""tools finish: a server's own time zone for `current_time`; PostgreSQL search stems English words

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

PostgreSQL's search index moves from `to_tsvector('simple', content)` to `to_tsvector('english', content)`, so
"shipping" finds "ships" as SQLite's FTS5 porter tokenizer does. Building the new index reads every stored turn
once (as 0008 did); the old one is dropped after it, so search works throughout.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _search_index(config: str) -> list[str]:
    return [
        f"CREATE INDEX ix_turns_content_search_new ON turns USING gin (to_tsvector('{config}', content))",
        "DROP INDEX IF EXISTS ix_turns_content_search",
        "ALTER INDEX ix_turns_content_search_new RENAME TO ix_turns_content_search",
    ]


def upgrade() -> None:
    with op.batch_alter_table("place_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for statement in _search_index("english"):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _search_index("simple"):
            op.execute(statement)
    with op.batch_alter_table("place_settings", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
