"""surveys and push notices: surveys, survey responses, notice opt-ins, notices, deliveries

Revision ID: 0012_surveys
Revises: 0009_residents
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cityos.db

revision = "0012_surveys"
down_revision = "0009_residents"
branch_labels = ("surveys",)
depends_on = None


def _moment(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, cityos.db.UTCDateTime(timezone=True), nullable=nullable)


def _resident_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["resident_id"], ["residents.id"], name=op.f(f"fk_{table}_resident_id_residents"),
        ondelete="CASCADE",
    )  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        _moment("opens_at", True),
        _moment("closes_at", True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _moment("created_at"),
        _moment("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("slug", name=op.f("uq_surveys_slug")),
    )
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        _moment("submitted_at"),
        _resident_fk("survey_responses"),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_responses_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("survey_id", "resident_id", name=op.f("uq_survey_responses_survey_id")),
    )
    op.create_index(
        op.f("ix_survey_responses_survey_id"), "survey_responses", ["survey_id"], unique=False
    )
    op.create_table(
        "notice_preferences",
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("share_age", sa.Boolean(), nullable=False),
        sa.Column("share_children", sa.Boolean(), nullable=False),
        sa.Column("share_town", sa.Boolean(), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        _moment("updated_at"),
        _resident_fk("notice_preferences"),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_notice_preferences")),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _moment("created_at"),
        _moment("sent_at", True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_table(
        "notice_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("matched_interests", sa.JSON(), nullable=False),
        _moment("delivered_at"),
        _resident_fk("notice_deliveries"),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.id"],
            name=op.f("fk_notice_deliveries_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_deliveries")),
        sa.UniqueConstraint(
            "notice_id", "resident_id", name=op.f("uq_notice_deliveries_notice_id")
        ),
    )
    op.create_index(
        op.f("ix_notice_deliveries_resident_id"), "notice_deliveries", ["resident_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_notice_deliveries_resident_id"), table_name="notice_deliveries")
    op.drop_table("notice_deliveries")
    op.drop_table("notices")
    op.drop_table("notice_preferences")
    op.drop_index(op.f("ix_survey_responses_survey_id"), table_name="survey_responses")
    op.drop_table("survey_responses")
    op.drop_table("surveys")
