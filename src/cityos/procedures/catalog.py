"""The shipped procedure catalog and the 手続きナビ rules (``data/*.json``) as Python values.

Both files are data that staff and civic-tech contributors can read and change without
touching code. The catalog was written from public knowledge, not copied from the city.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _read(name: str) -> dict[str, Any]:
    text = (resources.files("cityos.procedures") / "data" / name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def attribution() -> dict[str, str]:
    """How the catalog must be credited: not official, written from public knowledge."""
    return dict(_read("procedures.json")["attribution"])


def _texts(items: list[list[str]]) -> list[dict[str, str]]:
    """[ja, en, easy] lists as {"ja", "en", "easy"} (easy left out where not written)."""
    texts = []
    for item in items:
        text = {"ja": item[0], "en": item[1]}
        if len(item) > 2 and item[2]:
            text["easy"] = item[2]
        texts.append(text)
    return texts


def procedure_rows() -> list[dict[str, Any]]:
    """One row of the ``procedures`` table per procedure of the shipped catalog."""
    rows = []
    for position, item in enumerate(_read("procedures.json")["procedures"]):
        days, deadline_ja, deadline_en, deadline_easy = item["deadline"]
        online, online_ja, online_en = item["online"]
        rows.append(
            {
                "id": item["id"],
                "position": position,
                "name_ja": item["name"][0],
                "name_en": item["name"][1],
                "name_easy": item["name"][2],
                "summary_ja": item["summary"][0],
                "summary_en": item["summary"][1],
                "summary_easy": item["summary"][2],
                "department_ja": item["department"][0],
                "department_en": item["department"][1],
                "who_ja": item["who"][0],
                "who_en": item["who"][1],
                "bring": _texts(item["bring"]),
                "fee_ja": item["fee"][0],
                "fee_en": item["fee"][1],
                "deadline_days": days,
                "deadline_ja": deadline_ja,
                "deadline_en": deadline_en,
                "deadline_easy": deadline_easy,
                "online": online,
                "online_ja": online_ja,
                "online_en": online_en,
                "where_ja": item["where"][0],
                "where_en": item["where"][1],
                "where_easy": item["where"][2] if len(item["where"]) > 2 else "",
                "forms": list(item["forms"]),
                "related": list(item["related"]),
                "events": list(item["events"]),
                "keywords": list(item["keywords"]),
                "updated_by": "",
            }
        )
    return rows


def navi_rules() -> list[dict[str, Any]]:
    """The rules of the life-event guidance, in the file's order."""
    return list(_read("rules.json")["rules"])
