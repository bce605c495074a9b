"""voice: consultations, opinions, supports, moderation and analysed texts

Revision ID: 0008_voice
Revises: 0001
Create Date: 2026-11-26 10:29:40.844943
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db

revision = "0008_voice"
down_revision = "0001"
branch_labels = ("voice",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("opens_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closes_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_consultations")),
    )
    op.create_table(
        "voice_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["voice_consultations.id"],
            name=op.f("fk_voice_documents_consultation_id_voice_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_documents")),
    )
    with op.batch_alter_table("voice_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_documents_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "voice_opinions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("nickname", sa.String(length=40), nullable=False),
        sa.Column("town", sa.String(length=60), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published_text", sa.Text(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("moderated_by", sa.String(length=64), nullable=False),
        sa.Column("moderated_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("supports", sa.Integer(), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["voice_consultations.id"],
            name=op.f("fk_voice_opinions_consultation_id_voice_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_opinions")),
    )
    with op.batch_alter_table("voice_opinions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_opinions_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index("ix_voice_opinions_queue", ["status", "created_at"], unique=False)

    op.create_table(
        "voice_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("town", sa.String(length=60), nullable=False),
        sa.Column("said_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sentiment", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["voice_consultations.id"],
            name=op.f("fk_voice_texts_consultation_id_voice_consultations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_texts")),
        sa.UniqueConstraint("source", "ref", name=op.f("uq_voice_texts_source")),
    )
    with op.batch_alter_table("voice_texts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_texts_consultation_id"), ["consultation_id"], unique=False
        )
        batch_op.create_index("ix_voice_texts_filter", ["source", "said_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_voice_texts_town"), ["town"], unique=False)

    op.create_table(
        "voice_moderation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opinion_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["opinion_id"],
            ["voice_opinions.id"],
            name=op.f("fk_voice_moderation_opinion_id_voice_opinions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_moderation")),
    )
    with op.batch_alter_table("voice_moderation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_moderation_opinion_id"), ["opinion_id"], unique=False
        )

    op.create_table(
        "voice_supports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opinion_id", sa.Integer(), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["opinion_id"],
            ["voice_opinions.id"],
            name=op.f("fk_voice_supports_opinion_id_voice_opinions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_supports")),
        sa.UniqueConstraint(
            "opinion_id", "browser_hash", name=op.f("uq_voice_supports_opinion_id")
        ),
    )
    with op.batch_alter_table("voice_supports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voice_supports_opinion_id"), ["opinion_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("voice_supports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_supports_opinion_id"))

    op.drop_table("voice_supports")
    with op.batch_alter_table("voice_moderation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_moderation_opinion_id"))

    op.drop_table("voice_moderation")
    with op.batch_alter_table("voice_texts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_texts_town"))
        batch_op.drop_index("ix_voice_texts_filter")
        batch_op.drop_index(batch_op.f("ix_voice_texts_consultation_id"))

    op.drop_table("voice_texts")
    with op.batch_alter_table("voice_opinions", schema=None) as batch_op:
        batch_op.drop_index("ix_voice_opinions_queue")
        batch_op.drop_index(batch_op.f("ix_voice_opinions_consultation_id"))

    op.drop_table("voice_opinions")
    with op.batch_alter_table("voice_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_documents_consultation_id"))

    op.drop_table("voice_documents")
    op.drop_table("voice_consultations")
