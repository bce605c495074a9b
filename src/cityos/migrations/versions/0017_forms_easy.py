"""online forms in やさしい日本語: an easy title and introduction, easy labels, help and choices

Revision ID: 0017_forms_easy
Revises: 0010_forms
Create Date: 2026-11-26 15:00:00

The shipped forms get their easy texts where staff have not changed the Japanese text they
translate; edited texts stay as they are (the page shows Japanese where an easy text is missing).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from cityos.forms.catalog import form_rows

revision = "0017_forms_easy"
down_revision = "0010_forms"
branch_labels = None
depends_on = None


def _with_easy(stored: dict[str, Any], shipped: dict[str, Any]) -> dict[str, Any]:
    field = dict(stored)
    if field.get("label_ja") == shipped.get("label_ja") and shipped.get("label_easy"):
        field["label_easy"] = shipped["label_easy"]
    if field.get("help_ja") and field.get("help_ja") == shipped.get("help_ja"):
        field["help_easy"] = shipped.get("help_easy", "")
    if "choices" in field:
        easy = {c["value"]: c for c in shipped.get("choices", [])}
        field["choices"] = [
            {**c, "easy": easy[c["value"]]["easy"]}
            if c.get("value") in easy and easy[c["value"]].get("ja") == c.get("ja")
            else c
            for c in field["choices"]
        ]
    return field


def upgrade() -> None:
    with op.batch_alter_table("form_definitions") as batch:
        batch.add_column(
            sa.Column("title_easy", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("intro_easy", sa.Text(), nullable=False, server_default=""))
    definitions = sa.table(
        "form_definitions",
        sa.column("id", sa.String()),
        sa.column("title_ja", sa.String()),
        sa.column("title_easy", sa.String()),
        sa.column("intro_ja", sa.Text()),
        sa.column("intro_easy", sa.Text()),
        sa.column("fields", sa.JSON()),
    )
    connection = op.get_bind()
    stored = {row.id: row for row in connection.execute(sa.select(definitions))}
    for shipped in form_rows():
        row = stored.get(shipped["id"])
        if row is None:
            continue
        values: dict[str, Any] = {}
        if row.title_ja == shipped["title_ja"]:
            values["title_easy"] = shipped["title_easy"]
        if row.intro_ja == shipped["intro_ja"]:
            values["intro_easy"] = shipped["intro_easy"]
        by_name = {f["name"]: f for f in shipped["fields"]}
        values["fields"] = [
            _with_easy(f, by_name[f["name"]]) if f.get("name") in by_name else f
            for f in row.fields or []
        ]
        connection.execute(definitions.update().where(definitions.c.id == row.id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("form_definitions") as batch:
        batch.drop_column("intro_easy")
        batch.drop_column("title_easy")
