"""each answer in flight names the process streaming it; processes hold a heartbeat lease

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_processes",
        sa.Column("instance", sa.String(length=36), nullable=False),
        sa.Column("owner_key", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instance", name=op.f("pk_bot_processes")),
    )
    op.create_index("ix_bot_processes_owner_key", "bot_processes", ["owner_key"], unique=False)
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.drop_column("owner")
    op.drop_index("ix_bot_processes_owner_key", table_name="bot_processes")
    op.drop_table("bot_processes")
