"""The city's catalog of citizen-report services (Open311 service definitions), as data.

Migration ``0006_reports`` writes these rows into ``reports_services``; the Open311 schema
in /openapi.json names their codes. A later change to the catalog is a new migration.

Attribute fields follow GeoReport v2: ``code``, ``datatype`` (string, number, datetime,
text, singlevaluelist, multivaluelist), ``required``, ``order``, ``description`` and, for
lists, ``values`` (``key`` and ``name``). Every text is given in Japanese and English.
"""

from __future__ import annotations

from typing import Any

# When the catalog last changed (Open311 discovery's changeset).
CHANGESET = "2026-11-26T00:00:00+09:00"
CONTACT = ("秘書広報課 市民の声担当", "Public Relations Division (residents' voices)")
KEY_SERVICE = (
    "api_key は市が発行します（cityos reports issue-key） / the city issues api_keys "
    "(cityos reports issue-key)"
)
DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


def _value(key: str, ja: str, en: str) -> dict[str, str]:
    return {"key": key, "name_ja": ja, "name_en": en}


def _attribute(
    code: str,
    datatype: str,
    ja: str,
    en: str,
    *,
    required: bool = False,
    order: int = 1,
    values: list[dict[str, str]] | None = None,
    hint_ja: str = "",
    hint_en: str = "",
) -> dict[str, Any]:
    return {
        "code": code,
        "datatype": datatype,
        "required": required,
        "order": order,
        "description_ja": ja,
        "description_en": en,
        "datatype_description_ja": hint_ja,
        "datatype_description_en": hint_en,
        "values": values or [],
    }


ROADS = ("道路", "Roads")
PARKS = ("公園・緑", "Parks and greenery")
ENVIRONMENT = ("環境", "Environment")
OTHER = ("その他", "Other")

# Departments of the city that take each kind of report (agency_responsible).
ROAD_DIVISION = ("道路管理課", "Road Management Division")
PARK_DIVISION = ("緑と公園課", "Greenery and Parks Division")
WASTE_DIVISION = ("ごみ対策課", "Waste Management Division")
ENVIRONMENT_DIVISION = ("生活環境課", "Living Environment Division")
TRAFFIC_DIVISION = ("交通対策課", "Traffic Safety Division")
SEWER_DIVISION = ("下水道課", "Sewerage Division")
PUBLIC_RELATIONS = ("秘書広報課", "Public Relations Division")

SERVICES: list[dict[str, Any]] = [
    {
        "code": "road_damage",
        "name": ("道路の損傷（ひび割れ・穴）", "Road damage (cracks, potholes)"),
        "group": ROADS,
        "department": ROAD_DIVISION,
        "description": (
            "車道・歩道のひび割れ、穴、段差、舗装のはがれ",
            "Cracks, potholes, steps or loose paving on roads and pavements",
        ),
        "keywords": ["道路", "穴", "ひび割れ", "段差", "pothole", "road", "pavement"],
        "attributes": [
            _attribute(
                "size",
                "singlevaluelist",
                "損傷の大きさ",
                "Size of the damage",
                required=True,
                order=1,
                values=[
                    _value("small", "手のひらくらい", "About a palm"),
                    _value("medium", "30cm くらい", "About 30 cm"),
                    _value("large", "1m 以上", "1 m or more"),
                ],
            ),
            _attribute(
                "danger",
                "singlevaluelist",
                "通行する人や車に危険がありますか",
                "Is it a danger to people or vehicles?",
                order=2,
                values=[_value("yes", "はい", "Yes"), _value("no", "いいえ", "No")],
            ),
        ],
    },
    {
        "code": "streetlight",
        "name": ("街路灯の故障", "Broken street light"),
        "group": ROADS,
        "department": ROAD_DIVISION,
        "description": (
            "消えている、点滅している、昼間も点いている街路灯",
            "Street lights that are off, flicker, or stay on in daytime",
        ),
        "keywords": ["街路灯", "街灯", "電灯", "street light", "lamp"],
        "attributes": [
            _attribute(
                "pole_number",
                "string",
                "街路灯の番号（柱の番号札）",
                "Pole number (the plate on the pole)",
                order=1,
                hint_ja="わからなければ空欄で構いません",
                hint_en="Leave empty if you cannot see it",
            ),
            _attribute(
                "symptom",
                "singlevaluelist",
                "どのような状態ですか",
                "What is wrong?",
                required=True,
                order=2,
                values=[
                    _value("off", "消えている", "It is off"),
                    _value("flickering", "点滅している", "It flickers"),
                    _value("on_in_daytime", "昼間も点いている", "It is on in daytime"),
                    _value("damaged", "柱や灯具が壊れている", "The pole or lamp is damaged"),
                ],
            ),
        ],
    },
    {
        "code": "park_equipment",
        "name": ("公園遊具の破損", "Damaged playground equipment"),
        "group": PARKS,
        "department": PARK_DIVISION,
        "description": (
            "公園の遊具・ベンチ・柵などの破損",
            "Broken play equipment, benches or fences in parks",
        ),
        "keywords": ["公園", "遊具", "ブランコ", "すべり台", "park", "playground"],
        "attributes": [
            _attribute("park_name", "string", "公園の名前", "Name of the park", order=1),
            _attribute(
                "equipment",
                "singlevaluelist",
                "壊れているもの",
                "What is broken",
                required=True,
                order=2,
                values=[
                    _value("swing", "ブランコ", "Swing"),
                    _value("slide", "すべり台", "Slide"),
                    _value("sandbox", "砂場", "Sandbox"),
                    _value("bench", "ベンチ", "Bench"),
                    _value("fence", "柵", "Fence"),
                    _value("other", "その他", "Other"),
                ],
            ),
        ],
    },
    {
        "code": "curve_mirror",
        "name": ("カーブミラー", "Traffic mirror"),
        "group": ROADS,
        "department": TRAFFIC_DIVISION,
        "description": (
            "カーブミラーの向きのずれ、汚れ、破損",
            "Traffic (curve) mirrors that are turned, dirty or broken",
        ),
        "keywords": ["カーブミラー", "ミラー", "mirror"],
        "attributes": [
            _attribute(
                "problem",
                "singlevaluelist",
                "どのような状態ですか",
                "What is wrong?",
                required=True,
                order=1,
                values=[
                    _value("turned", "向きがずれている", "It is turned"),
                    _value("dirty", "汚れ・くもり", "Dirty or misted"),
                    _value("broken", "割れている・倒れている", "Broken or fallen"),
                ],
            )
        ],
    },
    {
        "code": "illegal_dumping",
        "name": ("不法投棄", "Illegal dumping"),
        "group": ENVIRONMENT,
        "department": WASTE_DIVISION,
        "description": (
            "道路・公園・空き地に捨てられたごみ",
            "Rubbish dumped on roads, in parks or on vacant lots",
        ),
        "keywords": ["不法投棄", "ごみ", "粗大ごみ", "dumping", "rubbish", "garbage"],
        "attributes": [
            _attribute(
                "items",
                "multivaluelist",
                "捨てられているもの",
                "What was dumped",
                order=1,
                values=[
                    _value("household", "家庭ごみ", "Household rubbish"),
                    _value("bulky", "粗大ごみ・家具", "Bulky items, furniture"),
                    _value("appliances", "家電", "Electrical appliances"),
                    _value("tyres", "タイヤ", "Tyres"),
                    _value("other", "その他", "Other"),
                ],
            )
        ],
    },
    {
        "code": "graffiti",
        "name": ("落書き", "Graffiti"),
        "group": ENVIRONMENT,
        "department": ENVIRONMENT_DIVISION,
        "description": (
            "公共物・塀などへの落書き",
            "Graffiti on public property or walls",
        ),
        "keywords": ["落書き", "graffiti"],
        "attributes": [
            _attribute(
                "surface",
                "singlevaluelist",
                "落書きされている場所",
                "Where the graffiti is",
                order=1,
                values=[
                    _value("public", "公共物（標識・ガードレールなど）", "Public property"),
                    _value("private", "民家・店舗の壁など", "Private walls or shops"),
                ],
            )
        ],
    },
    {
        "code": "abandoned_bicycle",
        "name": ("放置自転車", "Abandoned bicycle"),
        "group": ROADS,
        "department": TRAFFIC_DIVISION,
        "description": (
            "道路や駅前に長く置かれたままの自転車・バイク",
            "Bicycles or motorbikes left for a long time on roads or near stations",
        ),
        "keywords": ["放置自転車", "自転車", "bicycle", "bike"],
        "attributes": [
            _attribute(
                "count",
                "number",
                "台数",
                "Number of bicycles",
                order=1,
                hint_ja="数字（例: 2）",
                hint_en="A number, e.g. 2",
            )
        ],
    },
    {
        "code": "fallen_tree",
        "name": ("倒木・枝", "Fallen tree or branches"),
        "group": PARKS,
        "department": PARK_DIVISION,
        "description": (
            "倒れた木、折れた枝、道にはみ出した枝",
            "Fallen trees, broken branches, branches over the road",
        ),
        "keywords": ["倒木", "枝", "木", "tree", "branch"],
        "attributes": [
            _attribute(
                "blocking",
                "singlevaluelist",
                "通行をふさいでいますか",
                "Is it blocking the way?",
                required=True,
                order=1,
                values=[
                    _value("fully", "完全にふさいでいる", "Fully blocked"),
                    _value("partly", "一部ふさいでいる", "Partly blocked"),
                    _value("no", "ふさいでいない", "Not blocking"),
                ],
            )
        ],
    },
    {
        "code": "drainage",
        "name": ("側溝・排水", "Gutters and drainage"),
        "group": ROADS,
        "department": SEWER_DIVISION,
        "description": (
            "側溝の詰まり、ふたの破損、悪臭、道路の冠水",
            "Blocked gutters, broken covers, bad smells, flooded roads",
        ),
        "keywords": ["側溝", "排水", "冠水", "drain", "gutter", "flooding"],
        "attributes": [
            _attribute(
                "problem",
                "singlevaluelist",
                "どのような状態ですか",
                "What is wrong?",
                required=True,
                order=1,
                values=[
                    _value("blocked", "詰まっている", "Blocked"),
                    _value("cover", "ふたが壊れている・ずれている", "Cover broken or moved"),
                    _value("smell", "悪臭がする", "Bad smell"),
                    _value("flooding", "水があふれている", "Water overflowing"),
                ],
            )
        ],
    },
    {
        "code": "other",
        "name": ("その他", "Other"),
        "group": OTHER,
        "department": PUBLIC_RELATIONS,
        "description": (
            "上のどれにもあてはまらない、まちの困りごと",
            "Any other problem in the city",
        ),
        "keywords": ["その他", "other"],
        "attributes": [],
    },
]

SERVICE_CODES: tuple[str, ...] = tuple(service["code"] for service in SERVICES)


def service_rows() -> list[dict[str, Any]]:
    """The catalog as rows of ``reports_services`` (what the migration inserts)."""
    return [
        {
            "code": service["code"],
            "position": position,
            "name_ja": service["name"][0],
            "name_en": service["name"][1],
            "group_ja": service["group"][0],
            "group_en": service["group"][1],
            "description_ja": service["description"][0],
            "description_en": service["description"][1],
            "keywords": service["keywords"],
            "department_ja": service["department"][0],
            "department_en": service["department"][1],
            "attributes": service["attributes"],
            "active": True,
        }
        for position, service in enumerate(SERVICES, start=1)
    ]
