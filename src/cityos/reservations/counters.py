"""The sample counters a new installation starts with (demo data, labelled as such).

Hours, slot lengths and staff numbers are made up for the demo; the city sets its own on
/staff/reservations.
"""

from __future__ import annotations

from typing import Any

_WEEKDAYS_0830_1700 = {str(day): ["08:30", "17:00"] for day in range(5)}

SAMPLE_COUNTERS: tuple[dict[str, Any], ...] = (
    {
        "id": "shimin-ido",
        "name_ja": "市民課 住民異動（転入・転出・転居）",
        "name_en": "Resident Registration: moving in, out and within the city",
        "place_ja": "市役所本庁舎 1階 市民課",
        "place_en": "City Hall main building, 1st floor",
        "slot_minutes": 30,
        "capacity": 3,
        "hours": _WEEKDAYS_0830_1700,
        "procedure_ids": ["tennyu", "tenshutsu", "tenkyo", "setai_henko", "mynumber_card_address"],
    },
    {
        "id": "shimin-shomei",
        "name_ja": "市民課 証明書（住民票・印鑑登録・戸籍）",
        "name_en": "Resident Registration: certificates and seal registration",
        "place_ja": "市役所本庁舎 1階 市民課",
        "place_en": "City Hall main building, 1st floor",
        "slot_minutes": 15,
        "capacity": 2,
        "hours": _WEEKDAYS_0830_1700,
        "procedure_ids": ["juminhyo", "inkan_toroku", "koseki_shomei", "mynumber_card"],
    },
    {
        "id": "kosodate",
        "name_ja": "子育て支援課（児童手当・医療費助成）",
        "name_en": "Child-rearing Support (child allowance, medical subsidies)",
        "place_ja": "市役所本庁舎 2階",
        "place_en": "City Hall main building, 2nd floor",
        "slot_minutes": 30,
        "capacity": 2,
        "hours": {**_WEEKDAYS_0830_1700, "5": ["09:00", "12:00"]},
        "procedure_ids": [
            "jido_teate",
            "kodomo_iryo_nyuyoji",
            "kodomo_iryo_gimu",
            "kodomo_iryo_koukou",
            "jido_fuyo",
            "hitorioya_iryo",
            "jido_ikusei",
        ],
    },
    {
        "id": "kokuho-nenkin",
        "name_ja": "保険課・国民年金係（国民健康保険・国民年金）",
        "name_en": "Health Insurance and National Pension",
        "place_ja": "市役所本庁舎 1階",
        "place_en": "City Hall main building, 1st floor",
        "slot_minutes": 20,
        "capacity": 1,
        "hours": _WEEKDAYS_0830_1700,
        "procedure_ids": ["kokuho_kanyu", "kokuho_dattai", "kokuho_henko", "kokumin_nenkin"],
    },
)


def counter_rows() -> list[dict[str, Any]]:
    """The sample counters as rows of ``reservation_counters`` (without ``updated_at``)."""
    return [
        {
            "position": index,
            "sample": True,
            "closed_dates": [],
            "updated_by": "sample",
            **counter,
        }
        for index, counter in enumerate(SAMPLE_COUNTERS)
    ]
