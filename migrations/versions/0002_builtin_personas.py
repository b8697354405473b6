"""built-in personas

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of the table as this migration knows it (models may change later; this must not).
personas = sa.table(
    "personas",
    sa.column("name", sa.String),
    sa.column("name_key", sa.String),
    sa.column("description", sa.String),
    sa.column("system_prompt", sa.Text),
    sa.column("temperature", sa.Float),
    sa.column("max_tokens", sa.Integer),
    sa.column("builtin", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)

BUILTINS = [
    (
        "assistant",
        "A helpful, concise assistant.",
        0.7,
        "You are a helpful assistant in a Discord server. Answer clearly and concisely. "
        "Several people may talk to you; their names come before their messages.",
    ),
    (
        "tutor",
        "Explains step by step and checks understanding.",
        0.5,
        "You are a patient tutor. Explain ideas step by step with small examples, "
        "and end with one short question that checks understanding.",
    ),
    (
        "coder",
        "A programming helper that answers with code.",
        0.2,
        "You are an expert programmer. Answer with correct, idiomatic code in fenced code blocks "
        "and a brief explanation. Say so when you are unsure.",
    ),
    (
        "storyteller",
        "Spins short, vivid stories.",
        0.9,
        "You are a storyteller. Tell short, vivid, family-friendly stories that build on what "
        "people in the channel suggest.",
    ),
]


def upgrade() -> None:
    now = datetime.now(UTC)
    op.bulk_insert(
        personas,
        [
            {
                "name": name,
                "name_key": name,
                "description": description,
                "system_prompt": prompt,
                "temperature": temperature,
                "max_tokens": 512,
                "builtin": True,
                "created_at": now,
            }
            for name, description, temperature, prompt in BUILTINS
        ],
    )


def downgrade() -> None:
    op.execute(personas.delete().where(personas.c.builtin == sa.true()))
