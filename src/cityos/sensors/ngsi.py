"""The NGSI-LD (ETSI GS CIM 009) side of the sensors domain: reading and writing entities.

This module knows the JSON shapes only — entities in normalized, concise and simplified
(keyValues) form, attribute instances, the query language ``q``, geo-queries and the error
types — and turns them into the plain values of :mod:`cityos.sensors.service`, which holds
the logic. No SQL here. A ``@context`` (inline or in a Link header) is accepted and never
fetched: terms are the short names of the FIWARE Smart Data Models used below.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cityos.core.geo import distance_m
from cityos.sensors.kinds import ENTITY_TYPES, canonical_unit, timeseries_units
from cityos.sensors.service import EntityChange, StationSpec, StationView, ThresholdSpec
from cityos.sensors.timeseries import ReadingIn

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
# The Smart Data Models contexts define WaterObserved, WeatherObserved and their attributes.
MODEL_CONTEXTS = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Weather/master/context.jsonld",
)
RESPONSE_CONTEXT: list[str] = [*MODEL_CONTEXTS, CORE_CONTEXT]
LINK_HEADER = (
    f'<{CORE_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)
TYPE_IRIS = {
    "https://smartdatamodels.org/dataModel.Environment/WaterObserved": "WaterObserved",
    "https://smartdatamodels.org/dataModel.Weather/WeatherObserved": "WeatherObserved",
    "https://uri.fiware.org/ns/data-models#WaterObserved": "WaterObserved",
    "https://uri.fiware.org/ns/data-models#WeatherObserved": "WeatherObserved",
}
ERRORS_BASE = "https://uri.etsi.org/ngsi-ld/errors/"
MAX_NAME = 200
MAX_TEXT = 2000
MAX_Q = 1000
_ENTITY_ID = re.compile(
    r"urn:ngsi-ld:(?P<type>[A-Za-z][A-Za-z0-9]{0,39}):(?P<code>[A-Za-z0-9][A-Za-z0-9._-]{0,99})"
)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_ATTR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,59}")
# Attributes the entity shows but nobody writes: derived from readings and thresholds.
COMPUTED = frozenset({"alertLevel", "stationState", "dateObserved", "createdAt", "modifiedAt"})
METADATA = frozenset(
    {
        "name",
        "alternateName",
        "description",
        "location",
        "town",
        "expectedInterval",
        "thresholds",
        "readingLimits",
    }
)
LIMIT_KEYS = {"min", "max", "maxChange", "maxChangeSeconds"}


class NgsiError(Exception):
    """An NGSI-LD ProblemDetails answer: its error type decides the HTTP status."""

    def __init__(self, type_name: str, detail: str, *, status: int | None = None) -> None:
        super().__init__(detail)
        self.type_name = type_name
        self.detail = detail
        self.status = status or STATUS_OF.get(type_name, 400)

    def to_problem(self, instance: str = "") -> dict[str, Any]:
        body = {
            "type": ERRORS_BASE + self.type_name,
            "title": TITLES.get(self.type_name, self.type_name),
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        return body


STATUS_OF = {
    "InvalidRequest": 400,
    "BadRequestData": 400,
    "AlreadyExists": 409,
    "OperationNotSupported": 422,
    "ResourceNotFound": 404,
    "TooManyResults": 403,
    "TooComplexQuery": 403,
    "InternalError": 500,
}
TITLES = {
    "InvalidRequest": "Invalid request / 不正なリクエスト",
    "BadRequestData": "Bad request data / リクエストの内容に誤りがあります",
    "AlreadyExists": "Already exists / 既に存在します",
    "OperationNotSupported": "Operation not supported / 対応していない操作です",
    "ResourceNotFound": "Resource not found / 見つかりません",
    "TooManyResults": "Too many results / 結果が多すぎます",
    "TooComplexQuery": "Too complex query / 問い合わせが複雑すぎます",
}


def bad(detail: str) -> NgsiError:
    return NgsiError("BadRequestData", detail)


# --- identities --------------------------------------------------------------------------


def check_entity_id(entity_id: Any) -> tuple[str, str]:
    """(type, code) of an entity id ``urn:ngsi-ld:WaterObserved:mitaka-nogawa-osawa``."""
    if not isinstance(entity_id, str) or not _URI.fullmatch(entity_id):
        raise bad(
            f"エンティティIDはURIです / the entity id must be a URI: {str(entity_id)[:200]!r}"
        )
    match = _ENTITY_ID.fullmatch(entity_id)
    if match is None or match["type"] not in ENTITY_TYPES:
        raise bad(
            "観測所のIDは urn:ngsi-ld:WaterObserved:CODE か urn:ngsi-ld:WeatherObserved:CODE "
            "の形です（CODE は英数字・._-） / station ids look like urn:ngsi-ld:WaterObserved:CODE "
            f"or urn:ngsi-ld:WeatherObserved:CODE (CODE: letters, digits, . _ -): {entity_id[:200]!r}"
        )
    return match["type"], match["code"]


def entity_type_name(value: Any) -> str:
    """The short type name, from a short name or a Smart Data Models IRI."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str):
        raise bad("type は文字列です / type must be a string")
    short = str(TYPE_IRIS.get(value, value))
    if short not in ENTITY_TYPES:
        raise bad(
            f"型 {value[:100]!r} には対応していません（WaterObserved, WeatherObserved） / "
            f"unsupported entity type {value[:100]!r}: use WaterObserved or WeatherObserved"
        )
    return short


# --- dates -------------------------------------------------------------------------------


def parse_datetime(value: Any, what: str) -> datetime:
    """An ISO 8601 date-time with a time zone (NGSI-LD writes UTC with Z)."""
    if not isinstance(value, str) or len(value) > 40:
        raise bad(f"{what} は ISO 8601 の日時です / {what} must be an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise bad(
            f"{what} の日時が読めません / {what} is not an ISO 8601 date-time: {value!r}"
        ) from None
    if parsed.tzinfo is None:
        raise bad(
            f"{what} にはタイムゾーン（Z や +09:00）が必要です / {what} needs a time zone "
            f"(Z or +09:00): {value!r}"
        )
    return parsed.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """UTC with Z, as NGSI-LD writes date-times."""
    utc = value.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- reading an entity -------------------------------------------------------------------


def _property_value(name: str, raw: Any) -> tuple[Any, dict[str, Any]]:
    """The value of a Property in normalized or concise form, and the whole attribute."""
    if isinstance(raw, dict):
        kind = raw.get("type")
        if kind is None and "value" not in raw and "languageMap" not in raw:
            # A bare JSON object in concise form is the value itself.
            return raw, {"type": "Property", "value": raw}
        if kind not in (None, "Property", "LanguageProperty"):
            raise bad(f"{name} は Property です / {name} must be a Property, not {kind!r}")
        if "languageMap" in raw:
            return raw["languageMap"], raw
        if "value" not in raw:
            raise bad(f"{name} に value がありません / {name} has no value")
        return raw["value"], raw
    if isinstance(raw, list):
        raise bad(f"{name} は一つの値です / {name} takes a single value")
    return raw, {"type": "Property", "value": raw}


def _text(name: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise bad(f"{name} は文字列です / {name} must be a string")
    text = value.strip()
    if len(text) > limit:
        raise bad(f"{name} は{limit}文字までです / {name} is limited to {limit} characters")
    return text


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(f"{name} は数値です / {name} must be a number, not {str(value)[:50]!r}")
    number = float(value)
    if not math.isfinite(number) or abs(number) > 1e12:
        raise bad(f"{name} は有限の数値です / {name} must be a finite number")
    return number


def _names(name: str, raw: Any, spec: StationSpec) -> None:
    value, _attr = _property_value(name, raw)
    if isinstance(value, dict):  # a LanguageProperty: {"ja": ..., "en": ...}
        ja = value.get("ja") or value.get("@none") or next(iter(value.values()), "")
        spec.name = _text(name, ja, MAX_NAME)
        if "en" in value:
            spec.name_en = _text(f"{name}.en", value["en"], MAX_NAME)
        return
    text = _text(name, value, MAX_NAME)
    if name == "alternateName":
        spec.name_en = text
    else:
        spec.name = text


def parse_point(raw: Any, what: str = "location") -> tuple[float, float]:
    """(lat, lon) of a GeoJSON Point; GeoJSON writes [longitude, latitude]."""
    if not isinstance(raw, dict) or raw.get("type") != "Point":
        raise bad(f"{what} は GeoJSON の Point です / {what} must be a GeoJSON Point")
    coordinates = raw.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
        raise bad(
            f"{what} の coordinates は [経度, 緯度] です / {what} needs [longitude, latitude]"
        )
    lon = _number(f"{what} longitude", coordinates[0])
    lat = _number(f"{what} latitude", coordinates[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise bad(f"{what} の座標が範囲外です / {what} is out of range: [{lon}, {lat}]")
    return lat, lon


def _location(raw: Any, spec: StationSpec) -> None:
    if isinstance(raw, dict) and raw.get("type") == "GeoProperty":
        raw = raw.get("value")
    spec.lat, spec.lon = parse_point(raw)


def _interval(raw: Any, spec: StationSpec) -> None:
    value, attr = _property_value("expectedInterval", raw)
    unit = attr.get("unitCode", "SEC")
    factor = {"SEC": 1, "MIN": 60, "HUR": 3600}.get(unit)
    if factor is None:
        raise bad("expectedInterval の unitCode は SEC, MIN, HUR です / use SEC, MIN or HUR")
    seconds = _number("expectedInterval", value) * factor
    if not 10 <= seconds <= 7 * 24 * 3600 or seconds != int(seconds):
        raise bad(
            "expectedInterval は10秒〜7日の整数秒です / expectedInterval must be whole seconds "
            "between 10 s and 7 days"
        )
    spec.expected_interval_s = int(seconds)


def _thresholds(raw: Any, spec: StationSpec) -> None:
    value, _attr = _property_value("thresholds", raw)
    if not isinstance(value, list) or len(value) > 20:
        raise bad("thresholds は水位（基準）の配列です / thresholds must be a list (20 at most)")
    found: list[ThresholdSpec] = []
    for position, item in enumerate(value, start=1):
        where = f"thresholds[{position}]"
        if not isinstance(item, dict):
            raise bad(f"{where} はオブジェクトです / {where} must be an object")
        unknown = set(item) - {
            "rank",
            "name",
            "nameEn",
            "value",
            "attribute",
            "hysteresis",
            "unitCode",
        }
        if unknown:
            raise bad(
                f"{where} に不明な項目があります / {where} has unknown keys: {sorted(unknown)}"
            )
        rank = item.get("rank")
        if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= 4:
            raise bad(f"{where}.rank は1〜4です / {where}.rank must be 1 to 4")
        attribute = item.get("attribute")
        if attribute is not None and not (
            isinstance(attribute, str) and _ATTR_NAME.fullmatch(attribute)
        ):
            raise bad(f"{where}.attribute が不正です / {where}.attribute is not an attribute name")
        hysteresis = item.get("hysteresis")
        found.append(
            ThresholdSpec(
                attribute=attribute,
                rank=rank,
                name=_text(f"{where}.name", item.get("name", ""), 60),
                name_en=_text(f"{where}.nameEn", item.get("nameEn", ""), 100),
                value=_number(f"{where}.value", item.get("value")),
                hysteresis=None
                if hysteresis is None
                else _number(f"{where}.hysteresis", hysteresis),
                unit_code=_text(f"{where}.unitCode", item.get("unitCode", ""), 10),
            )
        )
    spec.thresholds = found


def _limits(raw: Any, spec: StationSpec) -> None:
    value, _attr = _property_value("readingLimits", raw)
    if not isinstance(value, dict) or len(value) > 10:
        raise bad(
            "readingLimits は属性ごとの上下限です / readingLimits maps attributes to "
            '{"min", "max", "maxChange", "maxChangeSeconds"}'
        )
    limits: dict[str, dict[str, float]] = {}
    for attribute, bounds in value.items():
        if not _ATTR_NAME.fullmatch(str(attribute)) or not isinstance(bounds, dict):
            raise bad(f"readingLimits.{str(attribute)[:60]} が不正です / is not valid")
        unknown = set(bounds) - LIMIT_KEYS
        if unknown:
            raise bad(f"readingLimits.{attribute} に不明な項目 / unknown keys {sorted(unknown)}")
        limits[attribute] = {
            key: _number(f"readingLimits.{attribute}.{key}", bound)
            for key, bound in bounds.items()
            if bound is not None
        }
    spec.limits = limits


def _instances(
    name: str, raw: Any, unit: str, received_at: datetime
) -> list[tuple[float, datetime, str]]:
    """The instances of a time-series attribute: (value in the canonical unit, time, unit)."""
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise bad(f"{name} の値がありません / {name} has no instances")
    found = []
    for position, item in enumerate(items, start=1):
        where = f"{name}[{position}]" if isinstance(raw, list) else name
        if isinstance(item, dict):
            kind = item.get("type", "Property")
            if kind != "Property":
                raise bad(f"{where} は Property です / {where} must be a Property")
            if "value" not in item:
                raise bad(f"{where} に value がありません / {where} has no value")
            value = _number(where, item["value"])
            observed = item.get("observedAt")
            observed_at = (
                received_at if observed is None else parse_datetime(observed, f"{where}.observedAt")
            )
            given_unit = item.get("unitCode")
        else:
            value, observed_at, given_unit = _number(where, item), received_at, None
        if given_unit is not None:
            if not isinstance(given_unit, str):
                raise bad(f"{where}.unitCode は文字列です / must be a string")
            converted = canonical_unit(unit, given_unit, value, name)
            if converted is None:
                raise bad(
                    f"{where} の単位 {given_unit!r} は使えません（{unit}） / unit {given_unit!r} "
                    f"cannot be converted to {unit}"
                )
            value = converted
        found.append((value, observed_at, unit))
    return found


def parse_entity(
    body: Any,
    *,
    received_at: datetime,
    entity_id: str | None = None,
    ld_json: bool = False,
    need_type: bool = True,
) -> EntityChange:
    """Read one entity (create, upsert) or an attribute fragment (``entity_id`` given)."""
    if not isinstance(body, dict):
        raise bad("エンティティは JSON オブジェクトです / an entity must be a JSON object")
    _check_context(body, ld_json)
    if entity_id is None:
        if "id" not in body:
            raise bad("id がありません / the entity has no id")
        entity_id = body["id"]
        id_type, _code = check_entity_id(entity_id)
        if "type" not in body and need_type:
            raise bad("type がありません / the entity has no type")
    else:
        id_type, _code = check_entity_id(entity_id)
        if "id" in body and body["id"] != entity_id:
            raise bad("本文の id がURLと違います / the body's id differs from the URL")
    assert isinstance(entity_id, str)
    entity_type = None
    if "type" in body:
        entity_type = entity_type_name(body["type"])
        if entity_type != id_type:
            raise bad(
                f"type {entity_type} と id の型 {id_type} が違います / the type does not match "
                "the id"
            )
    kind = entity_type or id_type
    spec = StationSpec()
    write = EntityChange(entity_id, entity_type, spec)
    units = timeseries_units(kind)
    if len(body) > 100:
        raise bad("属性が多すぎます（100まで） / too many attributes (100 at most)")
    for name, raw in body.items():
        if name in ("id", "type", "@context", "scope") or name in COMPUTED:
            continue
        if not isinstance(name, str) or not _ATTR_NAME.fullmatch(name):
            raise bad(f"属性名 {str(name)[:60]!r} は使えません / invalid attribute name")
        write.attribute_names.append(name)
        if name in units:
            for value, observed_at, unit in _instances(name, raw, units[name], received_at):
                write.readings.append(ReadingIn(0, name, value, observed_at, unit))
        elif name in ("name", "alternateName"):
            _names(name, raw, spec)
        elif name == "description":
            value, _attr = _property_value(name, raw)
            spec.description = _text(name, value, MAX_TEXT)
        elif name == "location":
            _location(raw, spec)
        elif name == "town":
            value, _attr = _property_value(name, raw)
            spec.town = _text(name, value, 100)
        elif name == "expectedInterval":
            _interval(raw, spec)
        elif name == "thresholds":
            _thresholds(raw, spec)
        elif name == "readingLimits":
            _limits(raw, spec)
        else:
            spec.extra[name] = _other_attribute(name, raw)
    return write


def _other_attribute(name: str, raw: Any) -> dict[str, Any]:
    """Any other attribute is kept as sent, in normalized form."""
    if isinstance(raw, dict) and raw.get("type") in (
        "Relationship",
        "GeoProperty",
        "Property",
        "LanguageProperty",
    ):
        if raw["type"] == "Relationship":
            if not isinstance(raw.get("object"), str | list):
                raise bad(f"{name} の object がありません / relationship {name} has no object")
        elif "value" not in raw and "languageMap" not in raw:
            raise bad(f"{name} に value がありません / {name} has no value")
        return raw
    _value, attr = _property_value(name, raw)
    return attr


def _check_context(body: dict[str, Any], ld_json: bool) -> None:
    if ld_json and "@context" not in body:
        raise bad(
            "application/ld+json の本文には @context が必要です / an application/ld+json body "
            "needs an @context"
        )
    if not ld_json and "@context" in body:
        raise bad(
            "application/json の本文に @context は置けません（Link ヘッダーか application/ld+json "
            "を使ってください） / an application/json body may not carry @context: use a Link "
            "header or application/ld+json"
        )


# --- writing an entity -------------------------------------------------------------------


def _prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def entity_json(
    view: StationView,
    *,
    attrs: set[str] | None = None,
    key_values: bool = False,
    sys_attrs: bool = False,
    context: bool = False,
) -> dict[str, Any]:
    """A station as an NGSI-LD entity (normalized, or simplified with ``key_values``)."""
    station = view.station
    attributes: dict[str, dict[str, Any]] = {}
    attributes["name"] = _prop(station.name)
    if station.name_en:
        attributes["alternateName"] = _prop(station.name_en)
    if station.description:
        attributes["description"] = _prop(station.description)
    if station.lat is not None and station.lon is not None:
        point = {"type": "Point", "coordinates": [station.lon, station.lat]}
        attributes["location"] = {"type": "GeoProperty", "value": point}
    if station.town:
        attributes["town"] = _prop(station.town)
    attributes["expectedInterval"] = _prop(station.expected_interval_s, unitCode="SEC")
    if view.thresholds:
        attributes["thresholds"] = _prop(
            [
                {
                    "attribute": t.attribute,
                    "rank": t.rank,
                    "name": t.name,
                    "nameEn": t.name_en,
                    "value": t.value,
                    "hysteresis": t.hysteresis,
                    "unitCode": view.unit_of(t.attribute),
                }
                for t in view.thresholds
            ]
        )
    attributes["readingLimits"] = _prop(view.limits)
    for attribute, current in sorted(view.current.items()):
        attributes[attribute] = _prop(
            current.value,
            unitCode=current.unit_code,
            observedAt=format_datetime(current.observed_at),
        )
    if view.last_observed_at is not None:
        attributes["dateObserved"] = _prop(
            {"@type": "DateTime", "@value": format_datetime(view.last_observed_at)}
        )
    attributes["alertLevel"] = _prop(view.level, name=view.level_name, nameEn=view.level_name_en)
    attributes["stationState"] = _prop("offline" if view.offline else "online")
    for name, attr in station.extra.items():
        attributes[name] = attr
    if attrs is not None:
        attributes = {k: v for k, v in attributes.items() if k in attrs}
    entity: dict[str, Any] = {"id": station.entity_id, "type": station.entity_type}
    if key_values:
        for name, attr in attributes.items():
            entity[name] = _simplified(attr)
    else:
        entity.update(attributes)
        if sys_attrs:
            entity["createdAt"] = format_datetime(station.created_at)
            entity["modifiedAt"] = format_datetime(station.modified_at)
    if context:
        entity["@context"] = RESPONSE_CONTEXT
    return entity


def _simplified(attr: dict[str, Any]) -> Any:
    if attr.get("type") == "Relationship":
        return attr.get("object")
    if attr.get("type") == "LanguageProperty":
        return attr.get("languageMap")
    value = attr.get("value")
    if isinstance(value, dict) and "@value" in value:
        return value["@value"]
    return value


def temporal_json(
    view: StationView,
    series: dict[str, list[tuple[int, float, datetime, str, str | None]]],
    *,
    temporal_values: bool,
    context: bool,
) -> dict[str, Any]:
    """The temporal representation: each attribute as its instances over time."""
    station = view.station
    entity: dict[str, Any] = {"id": station.entity_id, "type": station.entity_type}
    for attribute, rows in series.items():
        unit = view.unit_of(attribute)
        if temporal_values:
            entity[attribute] = {
                "type": "Property",
                "values": [[value, format_datetime(at)] for _id, value, at, _flag, _note in rows],
            }
            if unit:
                entity[attribute]["unitCode"] = unit
            continue
        instances = []
        for reading_id, value, at, flag, note in rows:
            instance: dict[str, Any] = {
                "type": "Property",
                "value": value,
                "observedAt": format_datetime(at),
                "instanceId": f"urn:ngsi-ld:attribute:instance:{reading_id}",
            }
            if unit:
                instance["unitCode"] = unit
            if flag != "ok":
                instance["flag"] = {"type": "Property", "value": flag}
                if note:
                    instance["flag"]["reason"] = note
            instances.append(instance)
        entity[attribute] = instances
    if context:
        entity["@context"] = RESPONSE_CONTEXT
    return entity


# --- the query language q ----------------------------------------------------------------

_Q_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lp>\() | (?P<rp>\)) | (?P<and>;) | (?P<or>\|)
    | (?P<op>==|!=|>=|<=|>|<|!~=|~=)
    | (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<word>[^\s();|=!<>~"]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Comparison:
    path: tuple[str, ...]
    op: str | None
    value: Any  # a number, a string, a bool, a list (a,b,c) or a range tuple


@dataclass(frozen=True)
class Logical:
    op: str  # "and" or "or"
    terms: tuple[Query, ...]


Query = Comparison | Logical


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    while position < len(text):
        match = _Q_TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip() == "":
                break
            raise bad(
                f"q を読めません（{position + 1}文字目） / q cannot be read at character {position + 1}"
            )
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def parse_q(text: str) -> Query:
    """``height>2.5;town=="大沢四丁目"|alertLevel>=3`` (";" and, "|" or, parentheses)."""
    if len(text) > MAX_Q:
        raise NgsiError(
            "TooComplexQuery", f"q は{MAX_Q}文字までです / q is limited to {MAX_Q} characters"
        )
    tokens = _tokens(text)
    if not tokens:
        raise bad("q が空です / q is empty")
    position, query = _q_or(tokens, 0, 0)
    if position != len(tokens):
        raise bad(
            f"q の {tokens[position][1]!r} が読めません / unexpected {tokens[position][1]!r} in q"
        )
    return query


def _q_or(tokens: list[tuple[str, str]], position: int, depth: int) -> tuple[int, Query]:
    position, first = _q_and(tokens, position, depth)
    terms = [first]
    while position < len(tokens) and tokens[position][0] == "or":
        position, term = _q_and(tokens, position + 1, depth)
        terms.append(term)
    return position, terms[0] if len(terms) == 1 else Logical("or", tuple(terms))


def _q_and(tokens: list[tuple[str, str]], position: int, depth: int) -> tuple[int, Query]:
    position, first = _q_factor(tokens, position, depth)
    terms = [first]
    while position < len(tokens) and tokens[position][0] == "and":
        position, term = _q_factor(tokens, position + 1, depth)
        terms.append(term)
    return position, terms[0] if len(terms) == 1 else Logical("and", tuple(terms))


def _q_factor(tokens: list[tuple[str, str]], position: int, depth: int) -> tuple[int, Query]:
    if position >= len(tokens):
        raise bad("q が途中で終わっています / q ends too early")
    kind, text = tokens[position]
    if kind == "lp":
        if depth >= 10:
            raise NgsiError("TooComplexQuery", "q の括弧が深すぎます / q is nested too deeply")
        position, inner = _q_or(tokens, position + 1, depth + 1)
        if position >= len(tokens) or tokens[position][0] != "rp":
            raise bad("q の括弧が閉じていません / a parenthesis in q is not closed")
        return position + 1, inner
    if kind != "word" or not re.fullmatch(r"[A-Za-z_@][A-Za-z0-9_.@]*", text):
        raise bad(
            f"q の属性名 {text!r} が読めません / expected an attribute name in q, got {text!r}"
        )
    path = tuple(text.split("."))
    position += 1
    if position < len(tokens) and tokens[position][0] == "op":
        op = tokens[position][1]
        if op in ("~=", "!~="):
            raise NgsiError(
                "OperationNotSupported",
                "q の正規表現（~=）には対応していません / pattern matching (~=) in q is not supported",
            )
        if position + 1 >= len(tokens) or tokens[position + 1][0] not in ("word", "str"):
            raise bad(f"q の {text}{op} の後に値がありません / no value after {text}{op} in q")
        value = _q_value(tokens[position + 1])
        if isinstance(value, list | tuple) and op not in ("==", "!="):
            raise bad(
                "q の範囲・一覧は == と != だけで使えます / ranges and lists work with == and != only"
            )
        return position + 2, Comparison(path, op, value)
    return position, Comparison(path, None, None)


def _q_literal(text: str) -> Any:
    if text.startswith('"'):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if text in ("true", "false"):
        return text == "true"
    try:
        number = float(text)
    except ValueError:
        return text  # an unquoted word, e.g. a date-time
    if not math.isfinite(number):
        raise bad(f"q の数値 {text!r} が不正です / invalid number in q")
    return number


def _q_value(token: tuple[str, str]) -> Any:
    kind, text = token
    if kind == "str":
        return _q_literal(text)
    if ".." in text:
        low, _, high = text.partition("..")
        return (_q_literal(low), _q_literal(high))
    if "," in text:
        return [_q_literal(part) for part in text.split(",")]
    return _q_literal(text)


def _compare(actual: Any, op: str, wanted: Any) -> bool:
    if isinstance(wanted, list):
        hit = any(_compare(actual, "==", item) for item in wanted)
        return hit if op == "==" else not hit
    if isinstance(wanted, tuple):
        low, high = wanted
        inside = _compare(actual, ">=", low) and _compare(actual, "<=", high)
        return inside if op == "==" else not inside
    numeric = (isinstance(actual, int | float) and not isinstance(actual, bool)) and (
        isinstance(wanted, int | float) and not isinstance(wanted, bool)
    )
    if not numeric and type(actual) is not type(wanted):
        return op == "!=" and actual is not None
    if op == "==":
        return bool(actual == wanted)
    if op == "!=":
        return bool(actual != wanted)
    try:
        if op == ">":
            return bool(actual > wanted)
        if op == ">=":
            return bool(actual >= wanted)
        if op == "<":
            return bool(actual < wanted)
        return bool(actual <= wanted)
    except TypeError:
        return False


def _lookup(values: dict[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    current: Any = values
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return False, None
        current = current[part]
    return True, current


def matches(query: Query, values: dict[str, Any]) -> bool:
    """Whether an entity in simplified form (name → value) satisfies ``query``."""
    if isinstance(query, Logical):
        if query.op == "and":
            return all(matches(term, values) for term in query.terms)
        return any(matches(term, values) for term in query.terms)
    found, actual = _lookup(values, query.path)
    if not found:
        return False
    if query.op is None:
        return True
    return _compare(actual, query.op, query.value)


# --- geo-queries -------------------------------------------------------------------------


@dataclass(frozen=True)
class GeoQuery:
    georel: str  # near, within, equals, disjoint, intersects
    geometry: str  # Point or Polygon
    coordinates: Any
    max_distance: float | None = None
    min_distance: float | None = None

    def matches(self, lat: float | None, lon: float | None) -> bool:
        if lat is None or lon is None:
            return False
        if self.geometry == "Point":
            target_lon, target_lat = self.coordinates
            distance = distance_m(lat, lon, target_lat, target_lon)
            if self.georel == "equals":
                return distance < 0.01
            if self.georel == "near":
                if self.max_distance is not None and distance > self.max_distance:
                    return False
                return not (self.min_distance is not None and distance < self.min_distance)
            if self.georel in ("intersects", "within"):
                return distance < 0.01
            return distance >= 0.01  # disjoint
        inside = _in_polygon(lon, lat, self.coordinates)
        return not inside if self.georel == "disjoint" else inside


def _in_polygon(x: float, y: float, rings: list[list[list[float]]]) -> bool:
    """Ray casting over the outer ring, minus the holes."""

    def in_ring(ring: list[list[float]]) -> bool:
        inside = False
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                inside = not inside
        return inside

    return in_ring(rings[0]) and not any(in_ring(hole) for hole in rings[1:])


def parse_geo_query(
    georel: str | None, geometry: str | None, coordinates: str | None, geoproperty: str | None
) -> GeoQuery | None:
    """The geo-query of a query request, or None when none is asked for."""
    if not georel and not geometry and not coordinates:
        return None
    if not (georel and geometry and coordinates):
        raise bad(
            "地理的な条件には georel, geometry, coordinates の三つが必要です / a geo-query "
            "needs georel, geometry and coordinates"
        )
    if geoproperty not in (None, "", "location"):
        raise bad("geoproperty は location だけです / geoproperty must be location")
    relation, *modifiers = georel.split(";")
    if relation not in ("near", "within", "equals", "disjoint", "intersects"):
        raise bad(f"georel {relation!r} には対応していません / unsupported georel {relation!r}")
    distances: dict[str, float] = {}
    for modifier in modifiers:
        key, _, text = modifier.partition("==")
        if key not in ("maxDistance", "minDistance") or relation != "near":
            raise bad(f"georel の {modifier!r} が読めません / invalid georel modifier {modifier!r}")
        try:
            distances[key] = float(text)
        except ValueError:
            raise bad(f"{key} は数値です / {key} must be a number") from None
        if not math.isfinite(distances[key]) or distances[key] < 0:
            raise bad(f"{key} は0以上の数値です / {key} must be a non-negative number")
    if relation == "near" and not distances:
        raise bad(
            "near には maxDistance か minDistance が必要です / near needs maxDistance or minDistance"
        )
    try:
        import json

        parsed = json.loads(coordinates)
    except ValueError:
        raise bad("coordinates は JSON の配列です / coordinates must be a JSON array") from None
    if geometry == "Point":
        lat, lon = parse_point({"type": "Point", "coordinates": parsed}, "coordinates")
        parsed = [lon, lat]
    elif geometry == "Polygon":
        if relation == "near":
            raise bad("near は Point とだけ使えます / near works with a Point")
        parsed = _polygon(parsed)
    else:
        raise bad(
            f"geometry {geometry!r} には対応していません（Point, Polygon） / unsupported geometry"
        )
    return GeoQuery(
        relation,
        geometry,
        parsed,
        max_distance=distances.get("maxDistance"),
        min_distance=distances.get("minDistance"),
    )


def _polygon(parsed: Any) -> list[list[list[float]]]:
    if not isinstance(parsed, list) or not parsed or len(parsed) > 20:
        raise bad("Polygon の coordinates は輪の配列です / a Polygon needs a list of rings")
    rings = []
    for ring in parsed:
        if not isinstance(ring, list) or not 4 <= len(ring) <= 1000:
            raise bad("Polygon の輪は4点以上です / each ring needs at least 4 positions")
        points = []
        for position in ring:
            lat, lon = parse_point({"type": "Point", "coordinates": position}, "coordinates")
            points.append([lon, lat])
        rings.append(points)
    return rings
