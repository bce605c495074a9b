"""survey builder: English title and description of a survey

Revision ID: 0017_surveys_builder
Revises: 0012_surveys
Create Date: 2026-11-26 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_surveys_builder"
down_revision = "0012_surveys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("surveys") as batch:
        batch.add_column(
            sa.Column("title_en", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("description_en", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("surveys") as batch:
        batch.drop_column("description_en")
        batch.drop_column("title_en")
