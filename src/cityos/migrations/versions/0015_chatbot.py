"""chatbot: FAQ entries, synonym groups (seeded from the bundled table), the question log

Revision ID: 0015_chatbot
Revises: 0001
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db
from cityos.chatbot.engine import bundled_synonyms

revision = "0015_chatbot"
down_revision = "0001"
branch_labels = ("chatbot",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chatbot_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("faq_id", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("updated", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(), nullable=False),
        sa.Column("changed_at", cityos.db.UTCDateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("faq_id"),
    )
    synonyms = op.create_table(
        "chatbot_synonyms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("changed_at", cityos.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "chatbot_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asked_at", cityos.db.UTCDateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("faq_id", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("to_staff", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("made_faq_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chatbot_questions_state", "chatbot_questions", ["state", "asked_at"])
    now = cityos.db.utcnow()
    op.bulk_insert(
        synonyms, [{"words": list(group), "changed_at": now} for group in bundled_synonyms()]
    )


def downgrade() -> None:
    op.drop_index("ix_chatbot_questions_state", table_name="chatbot_questions")
    op.drop_table("chatbot_questions")
    op.drop_table("chatbot_synonyms")
    op.drop_table("chatbot_entries")
