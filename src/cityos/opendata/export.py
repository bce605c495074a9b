"""Downloads of a DataStore table: CSV (UTF-8 with BOM, or Shift_JIS for Excel), JSON, GeoJSON."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import Engine

from cityos.opendata import datastore
from cityos.opendata.datastore import Field

GETA = "〓"  # the traditional mark for a character that cannot be shown (JIS 〓)


def _replace_with_geta(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return GETA * (error.end - error.start), error.end


codecs.register_error("cityos_geta", _replace_with_geta)

EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", ".csv"),
    "csv-sjis": ("text/csv; charset=shift_jis", ".csv"),
    "json": ("application/json", ".json"),
    "geojson": ("application/geo+json", ".geojson"),
}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _rows(engine: Engine, resource_id: str, fields: Sequence[Field]) -> Iterator[tuple[Any, ...]]:
    with engine.connect() as conn:
        yield from datastore.iter_all(conn, resource_id, fields)


def csv_chunks(
    engine: Engine, resource_id: str, fields: Sequence[Field], encoding: str = "utf-8"
) -> Iterator[bytes]:
    """CSV with a header of the column names; UTF-8 starts with a BOM so Excel reads it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    sjis = encoding == "shift_jis"

    def flush() -> bytes:
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return data.encode("cp932", "cityos_geta") if sjis else data.encode("utf-8")

    if not sjis:
        yield codecs.BOM_UTF8
    writer.writerow([f.name for f in fields])
    for count, row in enumerate(_rows(engine, resource_id, fields), start=1):
        writer.writerow([_cell(v) for v in row[1:]])
        if count % 2000 == 0:
            yield flush()
    yield flush()


def json_chunks(engine: Engine, resource_id: str, fields: Sequence[Field]) -> Iterator[bytes]:
    """A JSON array of objects, one per row, streamed."""
    names = ["_id", *[f.name for f in fields]]
    yield b"["
    first = True
    for row in _rows(engine, resource_id, fields):
        item = dict(zip(names, (_json_value(v) for v in row), strict=True))
        yield (b"" if first else b",\n") + orjson.dumps(item)
        first = False
    yield b"]\n"


def _json_value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def geojson_chunks(
    engine: Engine, resource_id: str, fields: Sequence[Field], lat_field: str, lon_field: str
) -> Iterator[bytes]:
    """A FeatureCollection of points; rows without coordinates are left out."""
    names = ["_id", *[f.name for f in fields]]
    lat_index = names.index(lat_field)
    lon_index = names.index(lon_field)
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for row in _rows(engine, resource_id, fields):
        lat, lon = row[lat_index], row[lon_index]
        if lat is None or lon is None:
            continue
        properties = {
            name: _json_value(value)
            for name, value in zip(names, row, strict=True)
            if name not in (lat_field, lon_field)
        }
        feature = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
            "properties": properties,
        }
        yield (b"" if first else b",\n") + orjson.dumps(feature)
        first = False
    yield b"]}\n"
