"""answers in flight, truncated answers, prompt tokens; personas leave temperature to the model

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "status IN ('complete', 'interrupted', 'failed')"
NEW_STATUSES = "status IN ('streaming', 'complete', 'truncated', 'interrupted', 'failed')"
OLD_ASSISTANT = (
    "You are a helpful assistant in a Discord server. Answer clearly and concisely. "
    "Several people may talk to you; their names come before their messages."
)
NEW_ASSISTANT = "You are a helpful assistant in a Discord server. Answer clearly and concisely."
OLD_TEMPERATURES = {"assistant": 0.7, "tutor": 0.5, "coder": 0.2, "storyteller": 0.9}

personas = sa.table(
    "personas",
    sa.column("name_key", sa.String),
    sa.column("system_prompt", sa.Text),
    sa.column("temperature", sa.Float),
    sa.column("builtin", sa.Boolean),
)


def upgrade() -> None:
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_turns_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_turns_status"), NEW_STATUSES)
        batch_op.add_column(sa.Column("message_ids", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("prompt_tokens", sa.Integer(), nullable=True))
        batch_op.create_index("ix_turns_status", ["status"], unique=False)
    with op.batch_alter_table("personas", schema=None) as batch_op:
        batch_op.alter_column("temperature", existing_type=sa.Float(), nullable=True)
    # Built-in personas sampled at 0.5-0.9, far too hot for a small model: they now leave it to the model.
    op.execute(personas.update().where(personas.c.builtin == sa.true()).values(temperature=None))
    op.execute(
        personas.update()
        .where(personas.c.name_key == "assistant", personas.c.system_prompt == OLD_ASSISTANT)
        .values(system_prompt=NEW_ASSISTANT)
    )


def downgrade() -> None:
    for name, temperature in OLD_TEMPERATURES.items():
        op.execute(
            personas.update()
            .where(personas.c.name_key == name, personas.c.temperature.is_(None))
            .values(temperature=temperature)
        )
    op.execute(personas.update().where(personas.c.temperature.is_(None)).values(temperature=0.7))
    op.execute(
        personas.update()
        .where(personas.c.name_key == "assistant", personas.c.system_prompt == NEW_ASSISTANT)
        .values(system_prompt=OLD_ASSISTANT)
    )
    with op.batch_alter_table("personas", schema=None) as batch_op:
        batch_op.alter_column("temperature", existing_type=sa.Float(), nullable=False)
    op.execute("DELETE FROM turns WHERE status IN ('streaming', 'truncated')")
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.drop_index("ix_turns_status")
        batch_op.drop_column("prompt_tokens")
        batch_op.drop_column("message_ids")
        batch_op.drop_constraint(op.f("ck_turns_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_turns_status"), OLD_STATUSES)
