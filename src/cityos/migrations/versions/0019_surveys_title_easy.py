"""surveys: an easy-Japanese (やさしい日本語) title

Revision ID: 0019_surveys_title_easy
Revises: 0017_surveys_builder
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_surveys_title_easy"
down_revision = "0017_surveys_builder"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN with a constant default: SQLite and PostgreSQL both add it in place,
    # without rebuilding the table.
    op.add_column(
        "surveys",
        sa.Column("title_easy", sa.String(length=200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place too (the column has no index or constraint).
    op.drop_column("surveys", "title_easy")
