"""push notices by e-mail: a resident may choose e-mail besides the my-page inbox

Revision ID: 0014_notice_email
Revises: 0012_surveys
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_notice_email"
down_revision = "0012_surveys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notice_preferences") as batch:
        batch.add_column(
            sa.Column("by_email", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("notice_preferences") as batch:
        batch.drop_column("by_email")
