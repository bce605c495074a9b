"""Synthetic AED lists in the 自治体標準オープンデータセット「AED設置箇所一覧」推奨 layout.

Rows are varied but repeatable (seeded): Mitaka's 62 町丁目 with their representative
points (Geolonia 住所データ, shipped with cityos) give the addresses and coordinates, with
small random offsets; facility names follow a few real-world patterns (city facilities,
schools, convenience stores, clinics, offices). Every row is valid for the ``aed`` schema.
The file is written the way many municipalities publish: Shift_JIS (CP932) with CRLF.

    python benchmarks/aed_data.py --rows 1000 out.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchlib import ROOT

TOWNS_FILE = ROOT / "src/cityos/opendata/demo_data/geolonia_towns_132047_mitaka.json"

HEADER = [
    "都道府県コード又は市区町村コード", "NO", "都道府県名", "市区町村名", "名称", "名称_カナ",
    "住所", "方書", "緯度", "経度", "設置位置", "電話番号", "内線番号", "法人番号", "団体名",
    "利用可能曜日", "開始時間", "終了時間", "利用可能日時特記事項", "小児対応設備の有無",
    "URL", "備考",
]  # fmt: skip

CITY_CODE = "132047"
CITY_CORPORATE_NUMBER = "8000020132047"  # 三鷹市
CITY_URL = "https://www.city.mitaka.lg.jp/"

TOWN_KANA = {
    "井口": "イグチ",
    "井の頭": "イノカシラ",
    "上連雀": "カミレンジャク",
    "大沢": "オオサワ",
    "北野": "キタノ",
    "下連雀": "シモレンジャク",
    "新川": "シンカワ",
    "深大寺": "ジンダイジ",
    "中原": "ナカハラ",
    "野崎": "ノザキ",
    "牟礼": "ムレ",
}
KANJI_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CHOME_KANA = ["", "イッ", "ニ", "サン", "ヨン", "ゴ", "ロク", "ナナ", "ハッ", "キュウ"]
NUMBER_KANA = [
    "", "イチ", "ニ", "サン", "ヨン", "ゴ", "ロク", "ナナ", "ハチ", "キュウ", "ジュウ",
    "ジュウイチ", "ジュウニ", "ジュウサン", "ジュウヨン", "ジュウゴ",
]  # fmt: skip

CITY_FACILITIES = [
    ("コミュニティ・センター", "コミュニティ・センター", "1階 事務室前"),
    ("地区公会堂", "チクコウカイドウ", "玄関ホール"),
    ("保育園", "ホイクエン", "1階 事務室"),
    ("学童保育所", "ガクドウホイクショ", "入口横"),
    ("地域ケアネット拠点", "チイキケアネットキョテン", "受付"),
]
STORES = [
    ("セブン-イレブン", "セブンイレブン", "株式会社セブン-イレブン・ジャパン"),
    ("ファミリーマート", "ファミリーマート", "株式会社ファミリーマート"),
    ("ローソン", "ローソン", "株式会社ローソン"),
]
SURNAMES = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("渡辺", "ワタナベ"), ("伊藤", "イトウ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
]  # fmt: skip
CLINIC_KINDS = [
    ("クリニック", "クリニック"),
    ("内科クリニック", "ナイカクリニック"),
    ("小児科", "ショウニカ"),
    ("整形外科", "セイケイゲカ"),
    ("歯科医院", "シカイイン"),
]
COMPANIES = [
    ("三鷹電機株式会社", "ミタカデンキカブシキガイシャ", "本社"),
    ("武蔵野精工株式会社", "ムサシノセイコウカブシキガイシャ", "三鷹工場"),
    ("井の頭ソフトウェア株式会社", "イノカシラソフトウェアカブシキガイシャ", "三鷹オフィス"),
    ("多摩物流株式会社", "タマブツリュウカブシキガイシャ", "三鷹営業所"),
]
WEEKDAYS = "月火水木金"
ALL_DAYS = "月火水木金土日"


@dataclass(frozen=True)
class Town:
    name: str  # 北野四丁目
    base: str  # 北野
    chome: int  # 4
    lat: float
    lon: float

    @property
    def kana(self) -> str:
        return TOWN_KANA[self.base]


def load_towns(path: Path = TOWNS_FILE) -> list[Town]:
    towns: list[Town] = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        name = item["town"]
        stem = name.removesuffix("丁目")  # 北野四
        base, digit = stem[:-1], stem[-1]
        towns.append(Town(name, base, KANJI_DIGITS[digit], float(item["lat"]), float(item["lng"])))
    return towns


def corporate_number(body12: str) -> str:
    """A 13-digit 法人番号 with its check digit in front (the standard's algorithm)."""
    total = sum(int(d) * (1 if i % 2 == 0 else 2) for i, d in enumerate(reversed(body12)))
    return f"{9 - total % 9}{body12}"


class AedRows:
    """Seeded generator of AED rows; the same seed gives the same file."""

    def __init__(self, seed: int = 132047) -> None:
        self.random = random.Random(seed)
        self.towns = load_towns()
        self.store_corp = {
            owner: corporate_number(f"{self.random.randrange(10**11, 10**12)}")
            for _, _, owner in STORES
        }
        self.company_corp = {
            name: corporate_number(f"{self.random.randrange(10**11, 10**12)}")
            for name, _, _ in COMPANIES
        }

    def rows(self, count: int) -> Iterator[list[str]]:
        for number in range(1, count + 1):
            yield self.row(number)

    def row(self, number: int) -> list[str]:
        r = self.random
        town = r.choice(self.towns)
        kind = r.random()
        if kind < 0.30:
            facility = self._city_facility(town)
        elif kind < 0.45:
            facility = self._school()
        elif kind < 0.70:
            facility = self._store(town)
        elif kind < 0.88:
            facility = self._clinic(town)
        else:
            facility = self._company()
        name, kana, place, phone_ok, ext, corp, org, days, start, end, note, child, url = facility
        lat = town.lat + r.gauss(0, 0.0012)
        lon = town.lon + r.gauss(0, 0.0015)
        phone = f"0422-4{r.randrange(10)}-{r.randrange(10000):04d}" if phone_ok else ""
        remark = r.choices(
            ["", "ベンチマーク用の合成データ", "夜間は警備員室へお声がけください", "2024年度更新"],
            weights=[80, 10, 5, 5],
        )[0]
        return [
            CITY_CODE,
            str(number),
            "東京都",
            "三鷹市",
            name,
            kana,
            self._address(town),
            self._annex(town),
            f"{lat:.6f}",
            f"{lon:.6f}",
            place,
            phone,
            ext,
            corp,
            org,
            days,
            start,
            end,
            note,
            child,
            url,
            remark,
        ]

    # --- facility patterns: (name, kana, place, has phone, extension, 法人番号, 団体名,
    #     days, start, end, note, 小児対応, URL)

    def _city_facility(self, town: Town) -> tuple[str, ...]:
        r = self.random
        suffix, suffix_kana, place = r.choice(CITY_FACILITIES)
        days, start, end, note = r.choice(
            [
                (WEEKDAYS, "08:30", "17:15", "土日祝日・年末年始は閉庁"),
                (ALL_DAYS, "09:00", "22:00", "休館日は利用不可"),
                ("火水木金土日", "09:00", "21:00", "月曜休館（祝日の場合は翌日）"),
                ("月火水木金土", "07:30", "19:00", "日曜・祝日は休園"),
            ]
        )
        ext = str(r.randrange(100, 1000)) if r.random() < 0.3 else ""
        return (
            f"三鷹市{town.base}{suffix}",
            f"ミタカシ{town.kana}{suffix_kana}",
            place,
            "1",
            ext,
            CITY_CORPORATE_NUMBER,
            "三鷹市",
            days,
            start,
            end,
            note,
            r.choice("有有無"),
            CITY_URL,
        )

    def _school(self) -> tuple[str, ...]:
        r = self.random
        if r.random() < 0.65:
            n, level, level_kana = r.randrange(1, 16), "小学校", "ショウガッコウ"
        else:
            n, level, level_kana = r.randrange(1, 8), "中学校", "チュウガッコウ"
        return (
            f"三鷹市立第{n}{level}",
            f"ミタカシリツダイ{NUMBER_KANA[n]}{level_kana}",
            r.choice(["体育館入口", "職員室前", "昇降口", "校庭側 倉庫横"]),
            "1",
            "",
            CITY_CORPORATE_NUMBER,
            "三鷹市",
            WEEKDAYS,
            "08:00",
            "17:00",
            "学校休業日は利用不可",
            "有",
            CITY_URL,
        )

    def _store(self, town: Town) -> tuple[str, ...]:
        r = self.random
        brand, brand_kana, owner = r.choice(STORES)
        return (
            f"{brand}三鷹{town.base}{town.chome}丁目店",
            f"{brand_kana}ミタカ{town.kana}{CHOME_KANA[town.chome]}チョウメテン",
            r.choice(["レジ横", "店内入口", "イートインコーナー"]),
            "1" if r.random() < 0.9 else "",
            "",
            self.store_corp[owner],
            owner,
            ALL_DAYS,
            "00:00",
            "24:00",
            "24時間利用可",
            r.choice("有無無"),
            CITY_URL if r.random() < 0.5 else "",
        )

    def _clinic(self, town: Town) -> tuple[str, ...]:
        r = self.random
        surname, surname_kana = r.choice(SURNAMES)
        kind, kind_kana = r.choice(CLINIC_KINDS)
        if r.random() < 0.5:
            name, kana = f"{surname}{kind}", f"{surname_kana}{kind_kana}"
        else:
            name, kana = f"{town.base}{kind}", f"{town.kana}{kind_kana}"
        return (
            name,
            kana,
            r.choice(["受付", "待合室", "1階 受付横"]),
            "1",
            "",
            "",
            f"医療法人社団{surname}会",
            "月火水金土",
            r.choice(["09:00", "08:45", "09:30"]),
            r.choice(["18:00", "18:30", "12:30"]),
            "木曜・日曜・祝日は休診",
            r.choice("有有無"),
            "",
        )

    def _company(self) -> tuple[str, ...]:
        r = self.random
        name, kana, site = r.choice(COMPANIES)
        return (
            f"{name} {site}",
            kana,
            r.choice(["1階 守衛室", "2階 エレベーターホール", "正面玄関"]),
            "1",
            str(r.randrange(1000, 10000)) if r.random() < 0.5 else "",
            self.company_corp[name],
            name,
            WEEKDAYS,
            "08:30",
            r.choice(["17:30", "18:00"]),
            "営業時間外は守衛室へ",
            "無",
            CITY_URL,
        )

    def _address(self, town: Town) -> str:
        r = self.random
        ban, go = r.randrange(1, 30), r.randrange(1, 40)
        style = r.random()
        if style < 0.5:
            return f"東京都三鷹市{town.name}{ban}番{go}号"
        if style < 0.9:
            return f"東京都三鷹市{town.base}{town.chome}-{ban}-{go}"
        return f"三鷹市{town.name}{ban}-{go}"

    def _annex(self, town: Town) -> str:
        r = self.random
        roll = r.random()
        if roll < 0.85:
            return ""
        if roll < 0.95:
            return f"{r.randrange(1, 6)}階"
        return f"{town.base}ビル{r.randrange(1, 9)}階"


def write_csv(path: Path, rows: int, seed: int = 132047) -> int:
    """Write ``rows`` AED rows to ``path`` as Shift_JIS (CP932) with CRLF; returns its size."""
    generator = AedRows(seed)
    with path.open("w", encoding="cp932", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        batch: list[list[str]] = []
        for row in generator.rows(rows):
            batch.append(row)
            if len(batch) == 10_000:
                writer.writerows(batch)
                batch.clear()
        writer.writerows(batch)
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=132047)
    args = parser.parse_args()
    size = write_csv(args.output, args.rows, args.seed)
    print(f"{args.output}: {args.rows:,} rows, {size:,} bytes (Shift_JIS, CRLF)")


if __name__ == "__main__":
    main()
