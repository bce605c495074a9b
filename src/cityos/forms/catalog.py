"""The shipped online forms (``data/forms.json``) as rows of ``form_definitions``.

The file is data staff and contributors can read and change without code; staff then edit
each form in the database (``/staff/forms/definitions``). Not official forms of any city.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _read() -> dict[str, Any]:
    text = (resources.files("cityos.forms") / "data" / "forms.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _field(item: dict[str, Any]) -> dict[str, Any]:
    """A field of the file ([ja, en, easy] texts) as the definition keeps it (label_ja ...)."""
    field = {k: v for k, v in item.items() if k not in ("label", "help", "choices")}
    for key in ("label", "help"):
        for language, text in zip(("ja", "en", "easy"), item.get(key, []), strict=False):
            if text:
                field[f"{key}_{language}"] = text
    if "choices" in item:
        field["choices"] = [
            {"value": value, **dict(zip(("ja", "en", "easy"), texts, strict=False))}
            for value, *texts in item["choices"]
        ]
    return field


def form_rows() -> list[dict[str, Any]]:
    """One row of ``form_definitions`` per shipped form."""
    return [
        {
            "id": item["id"],
            "procedure_id": item["procedure_id"],
            "title_ja": item["title"][0],
            "title_en": item["title"][1],
            "title_easy": item["title"][2] if len(item["title"]) > 2 else "",
            "department_ja": item["department"][0],
            "department_en": item["department"][1],
            "intro_ja": item["intro"][0],
            "intro_en": item["intro"][1],
            "intro_easy": item["intro"][2] if len(item["intro"]) > 2 else "",
            "fields": [_field(f) for f in item["fields"]],
            "active": True,
            "updated_by": "",
        }
        for item in _read()["forms"]
    ]
