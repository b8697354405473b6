"""voice_listening: per-channel listening mode, a server's forbid switch, members who opted out

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("place_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("listen_mode", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("listen_forbidden", sa.Boolean(), nullable=True))
    op.create_table(
        "listen_opt_outs",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_listen_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("listen_opt_outs")
    with op.batch_alter_table("place_settings", schema=None) as batch_op:
        batch_op.drop_column("listen_forbidden")
        batch_op.drop_column("listen_mode")
