"""procedures in やさしい日本語: where to go, and what to bring, for every shipped procedure

Revision ID: 0017_procedures_easy
Revises: 0009_residents
Create Date: 2026-11-26 15:00:00

The catalog rows staff have not changed get the shipped easy texts; edited ones keep theirs
(the page shows Japanese where an easy text is missing).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cityos.procedures.catalog import procedure_rows

revision = "0017_procedures_easy"
down_revision = "0009_residents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("procedures") as batch:
        batch.add_column(
            sa.Column("where_easy", sa.String(length=200), nullable=False, server_default="")
        )
    procedures = sa.table(
        "procedures",
        sa.column("id", sa.String()),
        sa.column("where_ja", sa.String()),
        sa.column("where_easy", sa.String()),
        sa.column("bring", sa.JSON()),
    )
    connection = op.get_bind()
    stored = {row.id: row for row in connection.execute(sa.select(procedures))}
    for shipped in procedure_rows():
        row = stored.get(shipped["id"])
        if row is None:
            continue
        values = {}
        if row.where_ja == shipped["where_ja"]:
            values["where_easy"] = shipped["where_easy"]
        if [b.get("ja") for b in row.bring or []] == [b["ja"] for b in shipped["bring"]]:
            values["bring"] = [
                {**old, "easy": new["easy"]} if "easy" in new else old
                for old, new in zip(row.bring, shipped["bring"], strict=True)
            ]
        if values:
            connection.execute(
                procedures.update().where(procedures.c.id == row.id).values(**values)
            )


def downgrade() -> None:
    with op.batch_alter_table("procedures") as batch:
        batch.drop_column("where_easy")
