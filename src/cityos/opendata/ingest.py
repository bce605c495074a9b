"""Reading uploaded tables: encodings, CSV parsing, standard-schema validation, type inference.

The reader never loses a valid row: each invalid row is reported with its line number and
reason, and the valid ones are loaded. Whole-file problems (empty, binary, mixed encodings,
no header) stop the upload with a clear message before anything is written.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cityos.core.encodings import (
    ENCODING_LABELS,
    detect_encoding,
)
from cityos.core.encodings import Progress as Progress  # opendata.service names it ingest.Progress
from cityos.core.encodings import decoded_lines as _decoded_lines
from cityos.core.errors import ValidationProblem
from cityos.opendata import standards
from cityos.opendata.addresses import AddressStep
from cityos.opendata.datastore import SEARCHABLE_KINDS, Field, full_text_of
from cityos.opendata.standards import CONVERTERS, KIND_TYPES, CellError, StandardSchema

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

MAX_REPORTED_PROBLEMS = 1000


@dataclass
class Problem:
    line: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class ColumnPlan:
    """How one column of the file becomes one column of the table."""

    name: str
    index: int
    kind: str
    required: bool = False
    derived: bool = False  # filled by the ingest (the address block), not read from the file

    @property
    def type(self) -> str:
        return KIND_TYPES[self.kind]

    def as_field(self) -> Field:
        return Field(self.name, self.type, self.kind)


@dataclass
class IngestReport:
    encoding: str = ""
    encoding_ambiguous: bool = False
    delimiter: str = ","
    schema: str = ""
    drift: standards.Drift | None = None
    columns: list[ColumnPlan] = field(default_factory=list)
    rows_read: int = 0
    rows_valid: int = 0
    blank_lines: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    source_format: str = "csv"
    address: dict[str, Any] | None = None  # what the address standardization did

    @property
    def rows_invalid(self) -> int:
        return self.problem_rows

    def add_problems(self, problems: list[Problem]) -> None:
        self.problem_rows += 1
        room = MAX_REPORTED_PROBLEMS - len(self.problems)
        if room > 0:
            self.problems.extend(problems[:room])

    def as_dict(self) -> dict[str, Any]:
        return {
            "source_format": self.source_format,
            "encoding": self.encoding,
            "encoding_label": ENCODING_LABELS.get(self.encoding, self.encoding),
            "encoding_ambiguous": self.encoding_ambiguous,
            "delimiter": self.delimiter,
            "schema": self.schema,
            "drift": self.drift.as_dict() if self.drift else None,
            "columns": [
                {
                    "name": c.name,
                    "type": c.type,
                    "kind": c.kind,
                    "required": c.required,
                    "derived": c.derived,
                }
                for c in self.columns
            ],
            "rows_read": self.rows_read,
            "rows_valid": self.rows_valid,
            "rows_invalid": self.rows_invalid,
            "blank_lines": self.blank_lines,
            "problems": [p.as_dict() for p in self.problems],
            "problems_truncated": self.problem_rows > 0
            and len(self.problems) >= MAX_REPORTED_PROBLEMS,
            "warnings": self.warnings,
            "address": self.address,
        }


# --- reading a CSV -------------------------------------------------------------------------


@dataclass
class TableSource:
    """A decoded table: its header and an iterator of (line number, cells)."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str
    ambiguous: bool
    delimiter: str
    source_format: str = "csv"


def open_csv(
    path: Path, declared_encoding: str | None = None, progress: Progress | None = None
) -> TableSource:
    encoding, ambiguous = detect_encoding(path, declared_encoding)
    lines = _decoded_lines(path, encoding, progress)
    first = next(lines, "")
    while first.strip() == "" and first != "":
        first = next(lines, "")
    if not first.strip():
        raise ValidationProblem(
            "ヘッダー行がありません / the file has no header line", errors={"file": ["no header"]}
        )
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    header = next(csv.reader([first], delimiter=delimiter))
    header = clean_header(header)
    reader = csv.reader(lines, delimiter=delimiter)
    offset = 1  # the header line was consumed before the reader started counting

    def numbered() -> Iterator[tuple[int, list[str]]]:
        try:
            for cells in reader:
                yield reader.line_num + offset, cells
        except csv.Error as exc:
            raise ValidationProblem(
                f"{reader.line_num + offset}行目の CSV が壊れています / line "
                f"{reader.line_num + offset} is malformed CSV: {exc}",
                errors={"file": [f"line {reader.line_num + offset}: {exc}"]},
            ) from None

    return TableSource(header, numbered(), encoding, ambiguous, delimiter)


def clean_header(header: list[str]) -> list[str]:
    """Header names stripped, blanks named 列N, duplicates numbered, so each is a column."""
    seen: dict[str, int] = {}
    result: list[str] = []
    for position, raw in enumerate(header, start=1):
        name = raw.strip().lstrip("\ufeff").strip() or f"列{position}"
        if name.startswith("_"):
            name = "列" + name  # names starting with _ are reserved for _id and _full_text
        count = seen.get(name, 0)
        seen[name] = count + 1
        result.append(name if count == 0 else f"{name}_{count + 1}")
    while result and header and not header[-1].strip() and result[-1].startswith("列"):
        result.pop()  # trailing empty header cells from spreadsheet exports
        header = header[:-1]
    return result


# --- GeoJSON (国土地理院 shelters and plain point collections) -------------------------------

GSI_HAZARDS = [
    "洪水",
    "崖崩れ、土石流及び地滑り",
    "高潮",
    "地震",
    "津波",
    "大規模な火事",
    "内水氾濫",
    "火山現象",
]


def open_geojson(path: Path) -> tuple[TableSource, str]:
    """A GeoJSON point collection as a table; GSI shelter files map onto the shelter schemas.

    Returns the table and the schema id it maps onto ("" for a plain collection).
    """
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationProblem(
            f"GeoJSON として読めません / not valid GeoJSON: {exc}", errors={"file": ["bad json"]}
        ) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ValidationProblem(
            "GeoJSON の FeatureCollection ではありません / not a GeoJSON FeatureCollection",
            errors={"file": ["not a FeatureCollection"]},
        )
    features = [f for f in data.get("features") or [] if isinstance(f, dict)]
    props = [f.get("properties") or {} for f in features]
    if props and all("施設・場所名" in p for p in props[:5]):
        if any("洪水" in p for p in props[:5]):
            return _gsi_table(features, emergency=True), "emergency_evacuation_sites"
        return _gsi_table(features, emergency=False), "designated_shelters"
    return _plain_geojson_table(features), ""


def _point(feature: dict[str, Any]) -> tuple[str, str]:
    geometry = feature.get("geometry") or {}
    coords = geometry.get("coordinates") if geometry.get("type") == "Point" else None
    if isinstance(coords, list) and len(coords) >= 2:
        return str(coords[1]), str(coords[0])
    return "", ""


def _gsi_table(features: list[dict[str, Any]], *, emergency: bool) -> TableSource:
    schema_id = "emergency_evacuation_sites" if emergency else "designated_shelters"
    schema = standards.all_schemas()[schema_id]
    header = list(schema.layouts[0].columns)
    codes = standards.municipality_codes()

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, feature in enumerate(features, start=1):
            p = feature.get("properties") or {}
            lat, lon = _point(feature)
            common_id = str(p.get("共通ID") or "")
            code = ""
            if len(common_id) >= 6 and common_id[1:6].isdigit():
                code = standards.lg_code_with_check_digit(common_id[1:6])
            pref, city = codes.get(code, ("", ""))
            same = str(
                p.get("指定避難所との住所同一") or p.get("指定緊急避難場所との住所同一") or ""
            )
            values = {
                "NO": str(p.get("NO") or number),
                "名称": str(p.get("施設・場所名") or ""),
                "住所": str(p.get("住所") or ""),
                "緯度": lat,
                "経度": lon,
                "市区町村コード": code,
                "都道府県名": pref,
                "市区町村名": city,
                "指定避難所との重複": same,
                "指定緊急避難場所との重複": same,
                "受入対象者": str(p.get("受入対象者") or ""),
                "備考": str(p.get("備考") or ""),
            }
            for hazard in GSI_HAZARDS:
                values[f"災害種別_{hazard}"] = "1" if str(p.get(hazard) or "") == "1" else ""
            yield number, [values.get(column, "") for column in header]

    return TableSource(header, rows(), "utf-8", False, ",", source_format="gsi-geojson")


def _plain_geojson_table(features: list[dict[str, Any]]) -> TableSource:
    keys: list[str] = []
    for feature in features:
        for key in feature.get("properties") or {}:
            if key not in keys:
                keys.append(str(key))
    header = clean_header([*keys, "緯度", "経度"])

    def rows() -> Iterator[tuple[int, list[str]]]:
        for number, feature in enumerate(features, start=1):
            p = feature.get("properties") or {}
            lat, lon = _point(feature)
            cells = ["" if p.get(k) is None else _cell(p.get(k)) for k in keys]
            yield number, [*cells, lat, lon]

    return TableSource(header, rows(), "utf-8", False, ",", source_format="geojson")


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --- planning columns ----------------------------------------------------------------------

_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?$")
_INTEGER = re.compile(r"^-?(0|[1-9]\d{0,17})$")
_LAT_NAMES = {"緯度", "lat", "latitude", "y"}
_LON_NAMES = {"経度", "lon", "lng", "long", "longitude", "x"}


def plan_columns(
    header: list[str],
    schema: StandardSchema | None,
    existing: list[Field] | None = None,
) -> tuple[list[ColumnPlan], standards.Drift | None]:
    """Decide each column's kind: from the standard, from the existing table, or to infer."""
    drift = standards.match_header(schema, header) if schema else None
    if (
        schema
        and drift
        and not (schema.known_columns() & {standards.header_key(h) for h in header})
    ):
        raise ValidationProblem(
            f"この CSV は「{schema.title}」の列を1つも含んでいません。データセットの標準スキーマか"
            f"ファイルを確認してください / this file has none of the columns of {schema.title_en}",
            errors={"file": ["no column of the declared schema"]},
        )
    existing_by_key = {standards.header_key(f.name): f for f in existing or []}
    if schema:
        for f in existing or []:
            existing_by_key.setdefault(standards.header_key(schema.canonical(f.name)), f)
    plans: list[ColumnPlan] = []
    for index, name in enumerate(header):
        key = standards.header_key(name)
        canonical_key = standards.header_key(schema.canonical(name)) if schema else key
        known = existing_by_key.get(key) or existing_by_key.get(canonical_key)
        if known is not None:
            required = bool(schema and standards.is_required(schema, name))
            plans.append(ColumnPlan(known.name, index, known.kind or "text", required))
        elif schema and key in schema.known_columns():
            plans.append(
                ColumnPlan(
                    name,
                    index,
                    standards.kind_of(schema.canonical(name)),
                    standards.is_required(schema, name),
                )
            )
        else:
            plans.append(ColumnPlan(name, index, "infer"))
    return plans, drift


def infer_kinds(plans: list[ColumnPlan], rows: Iterator[tuple[int, list[str]]]) -> None:
    """Give each column still marked "infer" the narrowest kind all its values fit."""
    pending = [p for p in plans if p.kind == "infer"]
    if not pending:
        return
    candidates = {p.index: _initial_candidates(p.name) for p in pending}
    width = sum(1 for p in plans if not p.derived)
    for _line, cells in rows:
        if len(cells) != width:
            continue
        for plan in pending:
            options = candidates[plan.index]
            if len(options) == 1:
                continue
            value = cells[plan.index].strip()
            if value:
                candidates[plan.index] = [k for k in options if _fits(k, value)]
    for plan in pending:
        plan.kind = candidates[plan.index][0]


def _initial_candidates(name: str) -> list[str]:
    lowered = name.strip().lower()
    if lowered in _LAT_NAMES:
        return ["latitude", "text"]
    if lowered in _LON_NAMES:
        return ["longitude", "text"]
    return ["integer", "number", "date", "text"]


def _fits(kind: str, value: str) -> bool:
    if kind == "text":
        return True
    if kind == "integer":
        return bool(_INTEGER.match(value))
    if kind in ("number",):
        return bool(_NUMBER.match(value))
    if kind == "date":
        if len(value) < 6 or value.isdigit():
            return False
        try:
            standards.check_date(value)
        except CellError:
            return False
        return True
    try:
        CONVERTERS[kind](value)
    except CellError:
        return False
    return True


# --- validating rows -----------------------------------------------------------------------


def validated_rows(
    rows: Iterator[tuple[int, list[str]]],
    plans: list[ColumnPlan],
    report: IngestReport,
    address: AddressStep | None = None,
) -> Iterator[list[Any]]:
    """Converted rows (values then ``_full_text``) for the valid lines; problems to ``report``.

    This loop runs once per row of million-row files: cells are stripped in one
    comprehension and only columns that need a check or a conversion are visited.
    """
    width = sum(1 for p in plans if not p.derived)
    extra: list[Any] = [None] * (len(plans) - width)
    checks: list[tuple[int, str, bool, Callable[[str], Any] | None]] = [
        (p.index, p.name, p.required, None if p.kind in ("text", "id") else CONVERTERS[p.kind])
        for p in plans
        if p.required or p.kind not in ("text", "id")
    ]
    searchable = [p.index for p in plans if p.kind in SEARCHABLE_KINDS and not p.derived]
    lat_index = next((p.index for p in plans if p.kind == "latitude"), None)
    lon_index = next((p.index for p in plans if p.kind == "longitude"), None)
    for line, cells in rows:
        if len(cells) != width:
            if not any(c.strip() for c in cells):
                report.blank_lines += 1
                continue
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                cells = cells[:width]  # trailing empty cells from spreadsheet exports
            else:
                report.rows_read += 1
                message = (
                    f"列の数が {len(cells)} です（見出しは {width} 列） / "
                    f"{len(cells)} fields where the header has {width}"
                )
                report.add_problems([Problem(line, "", message)])
                continue
        report.rows_read += 1
        values: list[Any] = [cell.strip() or None for cell in cells]
        full_text = full_text_of([values[i] for i in searchable])
        problems: list[Problem] | None = None
        for index, name, required, convert in checks:
            raw = values[index]
            if raw is None:
                if required:
                    problems = problems or []
                    problems.append(
                        Problem(line, name, "必須の項目が空です / required value is empty")
                    )
                continue
            if convert is not None:
                try:
                    values[index] = convert(raw)
                except CellError as exc:
                    problems = problems or []
                    problems.append(Problem(line, name, str(exc)))
        if (
            problems is None
            and lat_index is not None
            and lon_index is not None
            and (values[lat_index] is None) != (values[lon_index] is None)
        ):
            message = "緯度と経度は両方必要です / latitude and longitude go together"
            problems = [Problem(line, plans[lat_index].name, message)]
        if problems:
            report.add_problems(problems)
            continue
        report.rows_valid += 1
        if extra:
            values.extend(extra)
        if address is not None:
            address.apply(line, values)
        values.append(full_text)
        yield values


def describe_drift(drift: standards.Drift) -> list[str]:
    """Plain-language warnings for the report page."""
    messages = []
    if drift.missing:
        messages.append(
            f"標準の列がありません / columns of the standard are missing: {', '.join(drift.missing)}"
        )
    if drift.extra:
        messages.append(
            f"標準にない列があります / columns not in the standard: {', '.join(drift.extra)}"
        )
    for source, target in drift.renamed:
        messages.append(f"列名が標準と違います / renamed column: {source} → {target}")
    return messages
