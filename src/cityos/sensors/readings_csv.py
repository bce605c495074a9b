"""Reading a CSV file of readings: one reading a line, problems reported by line number.

Columns (Japanese or English headers, any order)::

    station | 観測所   entity id (urn:ngsi-ld:WaterObserved:…) or station code   required
    observedAt | 観測日時  ISO 8601 with a zone, or Japan time: 2026-06-01 10:00,
                          2026/6/1 10:00, 令和8年6月1日 10時00分, R8.6.1 10:00       required
    attribute | 項目       height, precipitation … (default: the station's main one)
    value | 値             a number (full-width digits are fine)                      required
    unit | 単位            m, cm, mm, mm/h … (default: the attribute's unit)

The file may be UTF-8 (with or without BOM) or Shift_JIS (CP932). No SQL here: the
service maps stations and records the readings.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cityos.core import text
from cityos.core.errors import ValidationProblem

TOKYO = text.TOKYO
MAX_PROBLEMS = 1000
HEADERS = {
    "station": (
        "station", "station_code", "stationcode", "code", "entity_id", "entityid", "id",
        "観測所", "観測所コード", "観測所id", "エンティティid",
    ),
    "observed_at": (
        "observedat", "observed_at", "datetime", "time", "timestamp",
        "観測日時", "日時", "観測時刻", "時刻",
    ),
    "attribute": ("attribute", "attr", "項目", "属性", "観測項目"),
    "value": ("value", "値", "観測値"),
    "unit": ("unit", "unitcode", "unit_code", "単位"),
}  # fmt: skip
REQUIRED = ("station", "observed_at", "value")
COLUMN_LABELS = {
    "station": "観測所 / station",
    "observed_at": "観測日時 / observedAt",
    "attribute": "項目 / attribute",
    "value": "値 / value",
    "unit": "単位 / unit",
}
MISSING_MARKS = {"", "-", "--", "―", "欠測", "×", "x", "nan", "null", "na", "n/a"}
# A date then a time: 2026/6/1 10:00, 令和8年6月1日10時, R8.6.1 9:30 (after NFKC).
_DATE_TIME = re.compile(r"(?P<date>.+?(?:日|\d))(?:\s+|T|(?<=日))(?P<time>(?:午前|午後)?\d.*)")


@dataclass
class CsvLine:
    line: int
    station: str
    observed_at: datetime
    attribute: str
    value: float
    unit: str


@dataclass
class CsvProblem:
    line: int
    column: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class CsvReadings:
    encoding: str
    lines_read: int = 0
    lines: list[CsvLine] = field(default_factory=list)
    problems: list[CsvProblem] = field(default_factory=list)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding label): UTF-8 (BOM or not) first, then Shift_JIS (CP932)."""
    for encoding, label in (("utf-8-sig", "UTF-8"), ("cp932", "Shift_JIS (CP932)")):
        try:
            return data.decode(encoding), label
        except UnicodeDecodeError:
            continue
    raise ValidationProblem(
        "文字コードが読めません（UTF-8 か Shift_JIS にしてください） / the file is neither "
        "UTF-8 nor Shift_JIS",
        errors={"file": ["encoding"]},
        status=415,
    )


def parse_observed_at(raw: str) -> datetime:
    """A time with a zone as given; without one, Japan time (JST). 和暦 is fine."""
    cleaned = text.normalize(raw).strip()
    if not cleaned:
        raise ValueError("観測日時が空です / observedAt is empty")
    try:
        parsed = datetime.fromisoformat(cleaned)
    except ValueError:
        parsed = _japanese_date_time(cleaned)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=TOKYO)
    return parsed.astimezone(UTC)


def _japanese_date_time(cleaned: str) -> datetime:
    match = _DATE_TIME.fullmatch(cleaned)
    if match is None:
        raise ValueError(
            f"観測日時 {cleaned!r} が読めません（例: 2026-06-01 10:00、令和8年6月1日 10時00分） / "
            f"cannot read the time {cleaned!r} (e.g. 2026-06-01T10:00+09:00)"
        )
    try:
        day = text.parse_date(match["date"].strip())
        clock = text.parse_time(match["time"].strip())
    except ValueError as exc:
        raise ValueError(f"観測日時が読めません / cannot read the time: {exc}") from None
    return datetime.combine(day, clock)


def parse_value(raw: str) -> float:
    cleaned = text.normalize(raw).strip().replace(",", "")
    if cleaned.lower() in MISSING_MARKS:
        raise ValueError("値がありません（欠測） / no value (missing)")
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"値 {raw!r} は数値ではありません / {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"値 {raw!r} は数値ではありません / {raw!r} is not a number")
    return value


def _columns(header: list[str]) -> dict[str, int]:
    keys = {alias: column for column, aliases in HEADERS.items() for alias in aliases}
    found: dict[str, int] = {}
    for position, name in enumerate(header):
        key = text.normalize(name).strip().lower().replace(" ", "")
        column = keys.get(key)
        if column is not None and column not in found:
            found[column] = position
    missing = [COLUMN_LABELS[c] for c in REQUIRED if c not in found]
    if missing:
        raise ValidationProblem(
            f"必要な列がありません: {', '.join(missing)}（見出し行: {', '.join(header)[:200]}） / "
            f"missing columns: {', '.join(missing)}",
            errors={"file": [f"missing column {c}" for c in missing]},
        )
    return found


def read_readings(data: bytes) -> CsvReadings:
    """Every line of the file, read or reported; raises only when the file as a whole
    cannot be used (encoding, no header, missing columns)."""
    decoded, encoding = decode(data)
    reader = csv.reader(io.StringIO(decoded, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationProblem(
            "ファイルが空です / the file is empty", errors={"file": ["empty"]}
        ) from None
    except csv.Error as exc:
        raise ValidationProblem(f"CSV が読めません / not a CSV file: {exc}") from None
    columns = _columns(header)
    result = CsvReadings(encoding)
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            result.lines_read += 1
            _read_line(reader.line_num, row, columns, result)
    except csv.Error as exc:
        result.problems.append(CsvProblem(reader.line_num, "", f"CSV が読めません / {exc}"))
    return result


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    position = columns.get(name)
    if position is None or position >= len(row):
        return ""
    return row[position]


def _read_line(line: int, row: list[str], columns: dict[str, int], into: CsvReadings) -> None:
    station = text.normalize(_cell(row, columns, "station")).strip()
    if not station:
        into.problems.append(
            CsvProblem(line, COLUMN_LABELS["station"], "観測所がありません / no station")
        )
        return
    try:
        observed_at = parse_observed_at(_cell(row, columns, "observed_at"))
    except ValueError as exc:
        into.problems.append(CsvProblem(line, COLUMN_LABELS["observed_at"], str(exc)))
        return
    try:
        value = parse_value(_cell(row, columns, "value"))
    except ValueError as exc:
        into.problems.append(CsvProblem(line, COLUMN_LABELS["value"], str(exc)))
        return
    into.lines.append(
        CsvLine(
            line=line,
            station=station,
            observed_at=observed_at,
            attribute=text.normalize(_cell(row, columns, "attribute")).strip(),
            value=value,
            unit=text.normalize(_cell(row, columns, "unit")).strip(),
        )
    )
