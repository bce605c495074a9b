"""sns

Revision ID: 0005_sns
Revises: 0001
Create Date: 2026-11-26 06:50:55.218027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db

revision = "0005_sns"
down_revision = "0001"
branch_labels = ("sns",)
depends_on = None


def upgrade() -> None:

    op.create_table(
        "sns_posts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("post_id", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("posted_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("poster_hash", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("group_key", sa.String(length=200), nullable=False),
        sa.Column("duplicate_of", sa.String(length=200), nullable=True),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("urgency_rank", sa.Integer(), nullable=False),
        sa.Column("hazard", sa.String(length=20), nullable=False),
        sa.Column("town", sa.String(length=60), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("outside", sa.Boolean(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("triaged_by", sa.String(length=80), nullable=False),
        sa.Column("mark", sa.String(length=20), nullable=False),
        sa.Column("marked_by", sa.String(length=100), nullable=False),
        sa.Column("marked_at", cityos.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sns_posts")),
        sa.UniqueConstraint("post_id", name=op.f("uq_sns_posts_post_id")),
    )
    with op.batch_alter_table("sns_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sns_posts_group_key"), ["group_key"], unique=False)
        batch_op.create_index(
            "ix_sns_posts_queue", ["duplicate_of", "urgency_rank", "posted_at"], unique=False
        )
        batch_op.create_index("ix_sns_posts_town", ["town"], unique=False)

    op.create_table(
        "sns_post_marks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("post_id", sa.String(length=36), nullable=False),
        sa.Column("mark", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("at", cityos.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["sns_posts.id"],
            name=op.f("fk_sns_post_marks_post_id_sns_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sns_post_marks")),
    )
    with op.batch_alter_table("sns_post_marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sns_post_marks_post_id"), ["post_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("sns_post_marks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sns_post_marks_post_id"))

    op.drop_table("sns_post_marks")
    with op.batch_alter_table("sns_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_sns_posts_town")
        batch_op.drop_index("ix_sns_posts_queue")
        batch_op.drop_index(batch_op.f("ix_sns_posts_group_key"))

    op.drop_table("sns_posts")
