"""The demo catalog: real open data of Mitaka and its neighbours, plus labelled samples.

The files live in ``demo_data/`` with their sources and licenses in ``demo_data/SOURCES.md``.
Loading is idempotent: datasets that already exist are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.models import User
from cityos.core.uploads import FileStore
from cityos.opendata import service
from cityos.opendata.models import Dataset, Group, Organization

SAMPLE_NOTE_JA = (
    "※ このデータは City OS の開発・デモ用に作成したサンプルです。市の公式データではありません。"
    "施設名は実在しますが、位置は概略で、時間・人数などの値は例示です。"
)
SAMPLE_NOTE_EN = (
    "This is sample data written for developing and demonstrating City OS, not official city data. "
    "Place names are real; positions are approximate and values such as hours are illustrative."
)
GSI_CREDIT = "出典：国土地理院 指定緊急避難場所・指定避難所データ（国土地理院コンテンツ利用規約）"

ORGANIZATIONS = [
    (
        "mitaka-bousai",
        "三鷹市 防災課",
        "Mitaka City Disaster Prevention Division",
        "避難所・避難場所など防災に関するデータ",
    ),
    (
        "mitaka-kenko",
        "三鷹市 健康推進課",
        "Mitaka City Health Promotion Division",
        "AED・医療機関など健康に関するデータ",
    ),
    (
        "mitaka-kosodate",
        "三鷹市 子育て支援課",
        "Mitaka City Child-Rearing Support Division",
        "保育園・児童館など子育てに関するデータ",
    ),
    (
        "mitaka-kikaku",
        "三鷹市 企画経営課",
        "Mitaka City Planning and Management Division",
        "公共施設・統計など市政全般のデータ",
    ),
    (
        "mitaka-kanko",
        "三鷹市 観光振興担当",
        "Mitaka City Tourism Promotion",
        "観光施設・イベントのデータ",
    ),
    (
        "mitaka-joho",
        "三鷹市 情報推進課",
        "Mitaka City Information Promotion Division",
        "公衆無線LANなど情報基盤のデータ",
    ),
    ("musashino", "武蔵野市", "Musashino City", "隣接市（三鷹駅北口は武蔵野市）のデータ"),
]

GROUPS = [
    ("bousai", "防災・安全", "Disaster prevention and safety", "避難所、避難場所、AED など"),
    ("kosodate", "子育て・教育", "Children and education", "保育園、児童館、学童保育など"),
    ("kenko", "健康・医療", "Health and medical care", "医療機関、AED など"),
    ("kanko", "観光・文化・イベント", "Tourism, culture and events", "観光施設、イベントなど"),
    ("kurashi", "くらし・施設", "Living and facilities", "公共施設、公衆トイレ、Wi-Fi など"),
    ("toukei", "統計", "Statistics", "人口など"),
]


@dataclass
class DemoDataset:
    name: str
    title: str
    title_en: str
    org: str
    groups: list[str]
    tags: list[str]
    schema: str
    files: list[tuple[str, str]]  # (file in demo_data, resource name)
    notes: str
    notes_en: str
    frequency: str = "irregular"
    sample: bool = False
    extra: dict[str, str] = field(default_factory=dict)


DATASETS = [
    DemoDataset(
        "mitaka-emergency-evacuation-sites",
        "三鷹市 指定緊急避難場所一覧",
        "Mitaka designated emergency evacuation sites",
        "mitaka-bousai",
        ["bousai"],
        ["避難場所", "防災", "災害"],
        "emergency_evacuation_sites",
        [
            (
                "gsi_emergency_evacuation_sites_132047_mitaka.geojson",
                "指定緊急避難場所（国土地理院 GeoJSON）",
            ),
            (
                "shelters_recommended_132047_sample.csv",
                "指定緊急避難場所（推奨データセット形式 CSV）",
            ),
        ],
        "災害の危険から命を守るために緊急的に避難する場所です。災害の種類（洪水、地震、大規模な火事など）ごとに指定されています。\n"
        + GSI_CREDIT,
        "Places to flee to at once when a disaster threatens, designated per hazard (flood, earthquake, large fire ...). Source: GSI.",
        "annual",
    ),
    DemoDataset(
        "mitaka-designated-shelters",
        "三鷹市 指定避難所一覧",
        "Mitaka designated shelters",
        "mitaka-bousai",
        ["bousai"],
        ["避難所", "防災", "災害"],
        "designated_shelters",
        [("gsi_designated_shelters_132047_mitaka.geojson", "指定避難所（国土地理院 GeoJSON）")],
        "災害の危険がなくなるまで一時的に滞在する施設です。\n" + GSI_CREDIT,
        "Facilities where people stay until the danger has passed. Source: GSI.",
        "annual",
    ),
    DemoDataset(
        "musashino-designated-shelters",
        "武蔵野市 指定避難所一覧",
        "Musashino designated shelters",
        "musashino",
        ["bousai"],
        ["避難所", "防災", "武蔵野市"],
        "designated_shelters",
        [("gsi_designated_shelters_132039_musashino.geojson", "指定避難所（国土地理院 GeoJSON）")],
        "隣接する武蔵野市の指定避難所です（三鷹駅北口は武蔵野市）。\n" + GSI_CREDIT,
        "Shelters of neighbouring Musashino City (the north side of Mitaka Station). Source: GSI.",
        "annual",
    ),
    DemoDataset(
        "musashino-public-toilets",
        "武蔵野市 公衆トイレ一覧",
        "Musashino public toilets",
        "musashino",
        ["kurashi"],
        ["トイレ", "武蔵野市"],
        "public_toilets",
        [("ods_public_toilet_132039_musashino.csv", "公衆トイレ一覧（正式版形式）")],
        "武蔵野市『武蔵野市公衆トイレ一覧』を加工して作成（CC BY）。自治体標準オープンデータセット正式版の列構成です。",
        "Adapted from Musashino City's public toilet list (CC BY), in the official standard layout.",
    ),
    DemoDataset(
        "mitaka-aed",
        "三鷹市 AED設置箇所一覧（サンプル）",
        "Mitaka AED locations (sample)",
        "mitaka-kenko",
        ["bousai", "kenko"],
        ["AED", "救命", "サンプル"],
        "aed",
        [("aed_132047_sample_sjis.csv", "AED設置箇所一覧（Shift_JIS CSV）")],
        "市の施設に設置されたAEDの一覧です。",
        "AEDs installed in city facilities.",
        sample=True,
    ),
    DemoDataset(
        "mitaka-public-facilities",
        "三鷹市 公共施設一覧（サンプル）",
        "Mitaka public facilities (sample)",
        "mitaka-kikaku",
        ["kurashi"],
        ["公共施設", "サンプル"],
        "public_facilities",
        [("public_facilities_132047_sample.csv", "公共施設一覧")],
        "市役所、コミュニティ・センター、図書館、学校などの公共施設です。",
        "City hall, community centres, libraries, schools and other public facilities.",
        sample=True,
    ),
    DemoDataset(
        "mitaka-tourism",
        "三鷹市 観光施設一覧（サンプル）",
        "Mitaka tourist facilities (sample)",
        "mitaka-kanko",
        ["kanko"],
        ["観光", "サンプル"],
        "tourism",
        [("tourism_132047_sample.csv", "観光施設一覧")],
        "三鷹の森ジブリ美術館、国立天文台、太宰治文学サロンなどの観光施設です。",
        "Tourist sights such as the Ghibli Museum, the National Astronomical Observatory and the Dazai Osamu literary salon.",
        sample=True,
    ),
    DemoDataset(
        "mitaka-events",
        "三鷹市 イベント一覧（サンプル）",
        "Mitaka events (sample)",
        "mitaka-kanko",
        ["kanko"],
        ["イベント", "サンプル"],
        "events",
        [("events_132047_sample.csv", "イベント一覧")],
        "市内で開かれるイベントです（架空のイベントです）。",
        "Events in the city (invented events).",
        "monthly",
        sample=True,
    ),
    DemoDataset(
        "mitaka-childcare",
        "三鷹市 子育て施設一覧（サンプル）",
        "Mitaka child-care facilities (sample)",
        "mitaka-kosodate",
        ["kosodate"],
        ["子育て", "保育", "サンプル"],
        "childcare",
        [("childcare_132047_sample.csv", "子育て施設一覧")],
        "保育園、こども園、児童館、学童保育所などです。",
        "Nurseries, children's centres and after-school care.",
        sample=True,
    ),
    DemoDataset(
        "mitaka-medical",
        "三鷹市 医療機関一覧（サンプル）",
        "Mitaka medical institutions (sample)",
        "mitaka-kenko",
        ["kenko"],
        ["医療", "病院", "サンプル"],
        "medical",
        [("medical_132047_sample.csv", "医療機関一覧")],
        "病院・診療所の一覧です（一部は架空です）。",
        "Hospitals and clinics (some are invented).",
        sample=True,
    ),
    DemoDataset(
        "mitaka-wifi",
        "三鷹市 公衆無線LANアクセスポイント一覧（サンプル）",
        "Mitaka public Wi-Fi (sample)",
        "mitaka-joho",
        ["kurashi"],
        ["Wi-Fi", "サンプル"],
        "wifi",
        [("wifi_132047_sample.csv", "公衆無線LANアクセスポイント一覧")],
        "市の施設の公衆無線LANです（SSID は例示です）。",
        "Public Wi-Fi in city facilities (the SSID is illustrative).",
        sample=True,
    ),
    DemoDataset(
        "mitaka-population",
        "三鷹市 地域・年齢別人口（サンプル）",
        "Mitaka population by area and age (sample)",
        "mitaka-kikaku",
        ["toukei"],
        ["人口", "統計", "サンプル"],
        "population",
        [("population_132047_sample.csv", "町丁目別・年齢別人口")],
        "町丁目ごと・5歳階級ごとの男女別人口です（数値は架空です）。",
        "Population per town block, by five-year age band and sex (made-up numbers).",
        "annual",
        sample=True,
    ),
]


def demo_file(name: str) -> Path:
    return Path(str(resources.files("cityos.opendata") / "demo_data" / name))


def load_demo(
    session: Session,
    actor: User,
    files: FileStore,
    *,
    site_url: str,
    progress: Callable[[str], None] = lambda _name: None,
    only: Collection[str] | None = None,
) -> list[str]:
    """Create the demo organizations, groups and datasets; returns the names of new datasets.

    ``only`` limits the datasets to those names (the organizations and groups are all made).
    """
    for name, title, title_en, description in ORGANIZATIONS:
        if session.scalar(select(Organization.id).where(Organization.name == name)) is None:
            service.create_organization(
                session,
                actor,
                {"name": name, "title": title, "title_en": title_en, "description": description},
            )
    for name, title, title_en, description in GROUPS:
        if session.scalar(select(Group.id).where(Group.name == name)) is None:
            service.create_group(
                session,
                actor,
                {"name": name, "title": title, "title_en": title_en, "description": description},
            )
    session.flush()
    created: list[str] = []
    for item in DATASETS:
        if only is not None and item.name not in only:
            continue
        progress(item.title)
        if session.scalar(select(Dataset.id).where(Dataset.name == item.name)) is not None:
            continue
        notes = f"{item.notes}\n\n{SAMPLE_NOTE_JA}" if item.sample else item.notes
        notes_en = f"{item.notes_en}\n\n{SAMPLE_NOTE_EN}" if item.sample else item.notes_en
        dataset = service.create_dataset(
            session,
            actor,
            {
                "name": item.name,
                "title": item.title,
                "title_en": item.title_en,
                "notes": notes,
                "notes_en": notes_en,
                "owner_org": item.org,
                "groups": item.groups,
                "tags": item.tags,
                "schema": item.schema,
                "frequency": item.frequency,
                "spatial": "東京都三鷹市" if item.org.startswith("mitaka") else "東京都武蔵野市",
                "maintainer": next(o[1] for o in ORGANIZATIONS if o[0] == item.org),
            },
            via="cli",
        )
        for filename, resource_name in item.files:
            resource = service.create_resource(
                session, actor, dataset.id, {"name": resource_name}, via="cli"
            )
            service.upload_file(
                session,
                actor,
                resource,
                service.UploadedFile(demo_file(filename), filename),
                files,
                site_url=site_url,
                via="cli",
            )
        created.append(item.name)
    return created
