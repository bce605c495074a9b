"""The logic of citizen reports: the catalog, new requests, queries, statuses and numbers.

Everything a resident sends arrives here as text (from an Open311 form post, a page or the
command line) and is checked as a whole before anything is written: a bad field is a
:class:`~cityos.core.errors.ValidationProblem` naming every field that is wrong, and nothing
of the request is stored. Messages are Japanese first, then English.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import statistics as stats
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, lazyload, selectinload

from cityos.address import service as address
from cityos.core import audit, auth, geo, text, web
from cityos.core.csvexport import excel_csv
from cityos.core.errors import ConflictProblem, NotFoundProblem, ValidationProblem
from cityos.core.events import ReportStatusChanged, emit
from cityos.core.geo import distance_m
from cityos.core.models import User
from cityos.core.ratelimit import TooManyRequestsProblem
from cityos.core.uploads import FileStore
from cityos.db import utcnow
from cityos.reports import catalog, photos
from cityos.reports.models import (
    DECLINED,
    DONE,
    IN_PROGRESS,
    MERGED,
    OPEN311_STATUSES,
    PHOTO_KINDS,
    RECEIVED,
    STATES,
    ReportApiKey,
    ReportPhoto,
    ReportService,
    ServiceRequest,
    StatusChange,
)

# Changing statuses and reading reporters' contacts: staff and admin (core.auth.PERMISSIONS).
MANAGE_PERMISSION = "reports.manage"
KEY_PREFIX = "o311_"

MAX_DESCRIPTION = 4000  # GeoReport v2: "limited to 4,000 characters"
MAX_ADDRESS = 500
MAX_MEDIA_URL = 2000
MAX_SHORT = 200  # device_id, account_id, string attributes
MAX_NAME = 100
MAX_NOTE = 4000
DEFAULT_DAYS = 90  # GeoReport v2: without dates, the last 90 days
MAX_RESULTS = 1000  # GeoReport v2: at most 1000 requests in one answer
MAX_COUNTED = 1_000_000  # counts for the public list's headline, past any page
MAX_IDS = 200
# One client sending the same text for the same service again within this time is a flood.
IDENTICAL_WINDOW = timedelta(hours=1)
DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = timedelta(days=14)

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}$")
# A web address of ASCII characters RFC 3986 allows (no quotes, spaces nor angle brackets).
MEDIA_URL_PATTERN = r"^https?://[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%]+$"
_MEDIA_URL = re.compile(MEDIA_URL_PATTERN)
# RFC 3339 date-time, as GeoReport v2 asks (the w3 note's profile, with seconds and a zone).
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


@dataclass(frozen=True)
class Bounds:
    """The rectangle that holds the city; a report's point must lie inside it."""

    south: float
    north: float
    west: float
    east: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    def describe_ja(self) -> str:
        return f"北緯 {self.south}〜{self.north} 度、東経 {self.west}〜{self.east} 度"

    def describe_en(self) -> str:
        return f"latitude {self.south} to {self.north}, longitude {self.west} to {self.east}"


# Mitaka City (東京都三鷹市) with a margin of a few hundred metres: its 町丁目 lie between
# 35.664 and 35.705 N, 139.528 and 139.589 E (representative points, address data).
CITY_BOUNDS = Bounds(south=35.655, north=35.715, west=139.515, east=139.605)


def _bad(field_name: str, message: str) -> ValidationProblem:
    return ValidationProblem(f"{field_name}: {message}", errors={field_name: [message]})


class Errors:
    """Field errors collected while checking a whole request, raised together."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field_name: str, message: str) -> None:
        self.by_field.setdefault(field_name, []).append(message)

    def raise_any(self) -> None:
        if self.by_field:
            fields = ", ".join(self.by_field)
            first = next(iter(self.by_field.items()))
            raise ValidationProblem(
                f"{first[0]}: {first[1][0]}"
                if len(self.by_field) == 1
                else f"入力内容に誤りがあります: {fields} / invalid fields: {fields}",
                errors=self.by_field,
            )


# --- plain text checks ---------------------------------------------------------------------


def clean_text(
    errors: Errors, field_name: str, raw: str | None, limit: int, *, one_line: bool = True
) -> str:
    """``raw`` stripped (on one line unless ``one_line`` is False); an error for control
    characters or for more than ``limit`` characters (counted as sent, as the schema does)."""
    value = raw or ""
    if web.has_control_characters(value):
        errors.add(field_name, web.CONTROL_CHARACTER_MESSAGE)
        return ""
    if len(value) > limit:
        errors.add(field_name, f"{limit}文字までです / at most {limit} characters")
        return ""
    if one_line:
        value = " ".join(value.split())
    return value.strip()


def parse_datetime(raw: str, field_name: str) -> datetime:
    """An RFC 3339 date-time (2026-09-14T10:00:00+09:00) as an aware datetime in UTC.

    Years beyond what Python holds are clamped (a search from year 0 means "from the start").
    """
    found = _DATETIME.fullmatch(raw)
    if found is None:
        raise _bad(
            field_name,
            "日時は 2026-09-14T10:00:00+09:00 の形で指定してください（タイムゾーンが必要です） / "
            "must be an RFC 3339 date-time with a time zone, e.g. 2026-09-14T10:00:00+09:00",
        )
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    zone = found.group(8)
    offset = timedelta(0)
    if zone not in ("Z", "z"):
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 23 or zone_minutes > 59:
            raise _bad(field_name, "タイムゾーンが正しくありません / invalid time zone offset")
        offset = timedelta(hours=zone_hours, minutes=zone_minutes) * (-1 if zone[0] == "-" else 1)
    try:
        local = datetime(max(year, 1), month, day, hour, minute, min(second, 59))
    except ValueError:
        raise _bad(field_name, "存在しない日時です / no such date or time") from None
    if second > 60:
        raise _bad(field_name, "存在しない日時です / no such date or time")
    try:
        return (local - offset).replace(tzinfo=UTC)
    except OverflowError:
        return (datetime.min if offset > timedelta(0) else datetime.max).replace(tzinfo=UTC)


def parse_coordinate(errors: Errors, field_name: str, raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        errors.add(field_name, "数値で指定してください / must be a number")
        return None
    return number


# --- the catalog ---------------------------------------------------------------------------


def list_services(session: Session) -> list[ReportService]:
    query = select(ReportService).where(ReportService.active).order_by(ReportService.position)
    return list(session.scalars(query))


def get_service(session: Session, code: str) -> ReportService:
    found = session.get(ReportService, code)
    if found is None or not found.active:
        raise NotFoundProblem(
            f"サービスコード {code!r} はありません（{', '.join(catalog.SERVICE_CODES)}） / "
            f"no service with code {code!r}",
        )
    return found


def sorted_attributes(service: ReportService) -> list[dict[str, Any]]:
    return sorted(service.attributes, key=lambda attribute: int(attribute.get("order", 0)))


# --- the city's places ---------------------------------------------------------------------


def city_towns(city: str) -> dict[str, tuple[float, float]]:
    """The 町丁目 of the city and their points: the ``address_id`` values a report may give."""
    return {town: (lat, lon) for town, lat, lon in address.towns_of(city)}


def nearest_town(city: str, lat: float, lon: float) -> str:
    """The 町丁目 of the city whose representative point is nearest (for counts per town)."""
    scale = math.cos(math.radians(lat))
    best = min(
        address.towns_of(city),
        key=lambda town: (town[1] - lat) ** 2 + ((town[2] - lon) * scale) ** 2,
        default=None,
    )
    return best[0] if best is not None else ""


@lru_cache(maxsize=8)
def _boundary_known(city: str) -> bool:
    return geo.knows_city(city, [(lat, lon) for _town, lat, lon in address.towns_of(city)])


def inside_city(city: str, lat: float, lon: float) -> bool:
    """Whether a point lies in the city: in its boundary or within geo.CITY_MARGIN_M of it
    (the boundaries are simplified). A point in a neighbouring city (吉祥寺, 調布駅) is not,
    although it lies in CITY_BOUNDS. A city the boundaries do not know is not checked."""
    return not _boundary_known(city) or geo.near_city(city, lat, lon)


def outside_city_message(city: str, lat: float, lon: float) -> str:
    where = geo.municipality_at(lat, lon)
    if where is None:
        return (
            f"この地点は{city}の外です。{city}内の地点を指定してください / "
            f"the point is outside {city}: give a point in the city"
        )
    return (
        f"この地点は{where.name_ja}で、{city}の外です。{city}内の地点を指定してください"
        f"（{where.name_ja}内のことは{where.name_ja}へお知らせください） / the point is in "
        f"{where.name_en}, outside {city}: give a point in the city (tell {where.name_en} "
        "about its own streets)"
    )


@dataclass
class Place:
    lat: float
    lon: float
    town: str
    address_string: str = ""
    address_id: str = ""


def _place_of_address(errors: Errors, city: str, written: str) -> Place | None:
    found = address.normalize(written, prefer_city=city)
    if found.city is not None and found.city != city:
        errors.add(
            "address_string",
            f"{city}内の住所を指定してください（{found.pref or ''}{found.city} は市外です） / "
            f"the address must be in {city} ({found.city} is outside the city)",
        )
        return None
    if found.level < address.LEVEL_TOWN or found.lat is None or found.lon is None:
        errors.add(
            "address_string",
            f"住所から場所がわかりませんでした。町名（例: {city}下連雀三丁目）を含めるか、"
            f"lat/long で指定してください / could not place this address in {city}; "
            "include the town (e.g. 下連雀三丁目) or give lat and long",
        )
        return None
    town = found.town or ""
    if town not in city_towns(city):
        town = nearest_town(city, found.lat, found.lon)
    return Place(found.lat, found.lon, town, address_string=written)


def locate(
    errors: Errors,
    city: str,
    *,
    lat: str | None,
    lon: str | None,
    address_string: str | None,
    address_id: str | None,
) -> Place | None:
    """The point of a report: lat/long, else the 町丁目 of address_id, else address_string."""
    written = clean_text(errors, "address_string", address_string, MAX_ADDRESS)
    town_id = clean_text(errors, "address_id", address_id, 60)
    towns = city_towns(city)
    if town_id and town_id not in towns:
        errors.add(
            "address_id",
            f"address_id は{city}の町丁目名です（例: 下連雀三丁目） / address_id is the name of "
            f"a 町丁目 of {city}, e.g. 下連雀三丁目",
        )
        town_id = ""
    north_south = parse_coordinate(errors, "lat", lat)
    east_west = parse_coordinate(errors, "long", lon)
    if (north_south is None) != (east_west is None):
        missing = "long" if east_west is None else "lat"
        if missing not in errors.by_field:
            errors.add(missing, "lat と long は両方指定してください / give both lat and long")
        return None
    if north_south is not None and east_west is not None:
        if not CITY_BOUNDS.contains(north_south, east_west):
            message = (
                f"{city}の外です。{CITY_BOUNDS.describe_ja()}の範囲で指定してください / "
                f"outside the city ({city}): give {CITY_BOUNDS.describe_en()}"
            )
            inside_lat = CITY_BOUNDS.south <= north_south <= CITY_BOUNDS.north
            errors.add("long" if inside_lat else "lat", message)
            return None
        if not inside_city(city, north_south, east_west):
            errors.add("lat", outside_city_message(city, north_south, east_west))
            return None
        town = town_id or nearest_town(city, north_south, east_west)
        return Place(north_south, east_west, town, written, town_id)
    if town_id:
        town_lat, town_lon = towns[town_id]
        return Place(town_lat, town_lon, town_id, written, town_id)
    if written:
        return _place_of_address(errors, city, written)
    if not errors.by_field.keys() & {"lat", "long", "address_string", "address_id"}:
        errors.add(
            "location",
            "場所を指定してください（lat と long、address_string、address_id のいずれか） / "
            "give the place: lat and long, address_string or address_id",
        )
    return None


# --- attributes ----------------------------------------------------------------------------


def _attribute_value(
    errors: Errors, name: str, definition: Mapping[str, Any], values: list[str]
) -> Any:
    datatype = definition.get("datatype")
    keys = {str(v["key"]) for v in definition.get("values", [])}
    values = [v.strip() for v in values if v.strip()]
    if datatype == "multivaluelist":
        unknown = [v for v in values if v not in keys]
        if unknown:
            errors.add(name, f"選べる値は {', '.join(sorted(keys))} です / must be one of them")
            return None
        return list(dict.fromkeys(values))
    if len(values) > 1:
        errors.add(name, "値は一つだけ指定してください / give one value only")
        return None
    value = values[0]
    if datatype == "singlevaluelist":
        if value not in keys:
            errors.add(name, f"選べる値は {', '.join(sorted(keys))} です / must be one of them")
            return None
        return value
    if datatype == "number":
        number = parse_coordinate(errors, name, value)
        return int(number) if number is not None and number.is_integer() else number
    if datatype == "datetime":
        try:
            return parse_datetime(value, name).isoformat()
        except ValidationProblem as exc:
            errors.add(name, exc.errors[name][0])
            return None
    limit = MAX_DESCRIPTION if datatype == "text" else MAX_SHORT
    return clean_text(errors, name, value, limit, one_line=datatype != "text") or None


def check_attributes(
    errors: Errors, service: ReportService, given: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """Attribute values by code, checked against the service definition."""
    definitions = {str(a["code"]): a for a in service.attributes}
    result: dict[str, Any] = {}
    for code, values in given.items():
        name = f"attribute[{code}]"
        definition = definitions.get(code)
        if definition is None and not any(v.strip() for v in values):
            continue  # a form's empty field for another service's attribute
        if definition is None:
            known = ", ".join(definitions) or "なし / none"
            errors.add(
                name,
                f"{service.code} にこの項目はありません（あるのは {known}） / "
                f"service {service.code} has no attribute {code!r}",
            )
            continue
        # A form's empty choice is no value (a page may send one per service it offers).
        given_values = [v for v in values if v.strip()]
        if given_values:
            value = _attribute_value(errors, name, definition, given_values)
            if value is not None:
                result[code] = value
    for code, definition in definitions.items():
        if definition.get("required") and code not in result:
            name = f"attribute[{code}]"
            if name not in errors.by_field:
                label = f"{definition.get('description_ja')} / {definition.get('description_en')}"
                errors.add(name, f"必須です（{label}） / required")
    return result


# --- new requests --------------------------------------------------------------------------


@dataclass
class NewRequest:
    """A report as sent: every field as text, attributes by code (several for a multi-list)."""

    service_code: str | None = None
    lat: str | None = None
    long: str | None = None
    address_string: str | None = None
    address_id: str | None = None
    description: str | None = None
    media_url: str | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    # An uploaded photo, already checked (photos.prepare), or why it was refused.
    photo: photos.PreparedPhoto | None = None
    photo_error: str | None = None


def client_digest(*parts: str) -> str:
    """Who sent a report, as a digest (api key or page, address, device): never shown."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _refuse_identical(
    session: Session, client: str, service_code: str, description: str, now: datetime
) -> None:
    if not client or not description:
        return
    earlier = session.scalar(
        select(ServiceRequest.requested_at)
        .where(
            ServiceRequest.client == client,
            ServiceRequest.service_code == service_code,
            ServiceRequest.description == description,
            ServiceRequest.requested_at >= now - IDENTICAL_WINDOW,
        )
        .order_by(ServiceRequest.requested_at.desc())
        .limit(1)
    )
    if earlier is None:
        return
    wait = max(60, int((earlier + IDENTICAL_WINDOW - now).total_seconds()))
    raise TooManyRequestsProblem(
        "同じ内容の報告をすでに受け付けています。続けて送らないでください（"
        f"{wait // 60} 分後から再送できます） / the same report from you was received "
        f"already; identical reports are refused for {wait // 60} more minutes",
        headers={"Retry-After": str(wait)},
    )


def _attach_photo(
    session: Session,
    request: ServiceRequest,
    photo: photos.PreparedPhoto,
    files: FileStore,
    *,
    kind: str,
    by_name: str,
    now: datetime,
) -> ReportPhoto:
    digest, thumb = photos.store(files, photo)
    row = ReportPhoto(
        kind=kind,
        digest=digest,
        thumb_digest=thumb,
        width=photo.width,
        height=photo.height,
        by_name=by_name[:64],
        created_at=now,
    )
    request.photos.append(row)
    return row


def submit_request(
    session: Session,
    new: NewRequest,
    *,
    city: str,
    submitted_via: str,
    now: datetime | None = None,
    client: str = "",
    files: FileStore | None = None,
    site_url: str = "",
) -> ServiceRequest:
    """Check a new report as a whole and store it with its first status (受付).

    A photo (``new.photo``) is published at a stable URL of this site, which becomes the
    report's ``media_url``. The same text for the same service from the same ``client``
    within an hour is refused as a flood (429).
    """
    errors = Errors()
    service: ReportService | None = None
    code = new.service_code or ""
    if not code:
        errors.add("service_code", "必須です / required")
    else:
        service = session.get(ReportService, code)
        if service is None or not service.active:
            errors.add(
                "service_code",
                f"サービスコード {code[:60]!r} はありません（{', '.join(catalog.SERVICE_CODES)}） "
                "/ unknown service_code",
            )
            service = None
    place = locate(
        errors,
        city,
        lat=new.lat,
        lon=new.long,
        address_string=new.address_string,
        address_id=new.address_id,
    )
    description = clean_text(
        errors, "description", new.description, MAX_DESCRIPTION, one_line=False
    )
    media_url = new.media_url or ""
    if media_url and not (len(media_url) <= MAX_MEDIA_URL and _MEDIA_URL.fullmatch(media_url)):
        errors.add("media_url", "http(s):// で始まる URL です / must be an http(s) URL")
    if new.photo_error:
        errors.add("media", new.photo_error)
    attributes = check_attributes(errors, service, new.attributes) if service else {}
    email = clean_text(errors, "email", new.email, 254)
    if email and not _EMAIL.fullmatch(email):
        errors.add("email", "メールアドレスの形ではありません / not an e-mail address")
    phone = clean_text(errors, "phone", new.phone, 40)
    private = {
        name: clean_text(errors, name, getattr(new, name), limit)
        for name, limit in (
            ("first_name", MAX_NAME),
            ("last_name", MAX_NAME),
            ("device_id", MAX_SHORT),
            ("account_id", MAX_SHORT),
        )
    }
    errors.raise_any()
    assert service is not None
    assert place is not None
    now = now or utcnow()
    _refuse_identical(session, client, service.code, description, now)
    request = ServiceRequest(
        service_code=service.code,
        state=RECEIVED,
        status=STATES[RECEIVED][2],
        department_ja=service.department_ja,
        department_en=service.department_en,
        lat=round(place.lat, 7),
        lon=round(place.lon, 7),
        town=place.town,
        address_string=place.address_string,
        address_id=place.address_id,
        description=description,
        media_url=media_url,
        attributes=attributes,
        requested_at=now,
        updated_at=now,
        token=secrets.token_urlsafe(18),
        email=email,
        phone=text.normalize_phone(phone) or phone,
        submitted_via=submitted_via[:100],
        client=client[:64],
        **private,
    )
    request.service = service
    request.changes.append(
        StatusChange(to_state=RECEIVED, department_ja=service.department_ja, by_name="", at=now)
    )
    if new.photo is not None:
        if files is None:
            raise ValueError("a photo needs the file store")
        stored = _attach_photo(
            session, request, new.photo, files, kind="report", by_name="", now=now
        )
        request.media_url = site_url.rstrip("/") + photos.photo_path(stored.digest)
    session.add(request)
    session.flush()
    return request


def service_notice(request: ServiceRequest) -> str:
    return (
        f"受け付けました。{request.department_ja}が対応します。 / "
        f"Received; the {request.department_en} will handle it."
    )


# --- reading requests ----------------------------------------------------------------------


@dataclass
class RequestQuery:
    """GeoReport v2 GET requests filters; ``ids`` overrides every other one."""

    ids: list[int] | None = None
    service_codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None
    limit: int = MAX_RESULTS
    offset: int = 0


def parse_query(
    *,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> RequestQuery:
    """The filters as text (comma-separated lists, RFC 3339 dates), checked."""
    query = RequestQuery()
    if service_request_id is not None:
        ids = service_request_id.split(",")
        if not ids or not all(part.isascii() and part.isdigit() and len(part) <= 9 for part in ids):
            raise _bad(
                "service_request_id",
                "番号をカンマ区切りで指定してください（例: 12,15） / "
                "give request ids separated by commas, e.g. 12,15",
            )
        if len(ids) > MAX_IDS:
            raise _bad("service_request_id", f"{MAX_IDS}件までです / at most {MAX_IDS} ids")
        query.ids = [int(part) for part in ids]
    if service_code is not None:
        codes = service_code.split(",")
        unknown = [c for c in codes if c not in catalog.SERVICE_CODES]
        if unknown:
            raise _bad(
                "service_code",
                f"サービスコード {unknown[0][:60]!r} はありません（{', '.join(catalog.SERVICE_CODES)}） "
                "/ unknown service_code",
            )
        query.service_codes = codes
    if status is not None:
        statuses = status.split(",")
        if not all(s in OPEN311_STATUSES for s in statuses):
            raise _bad("status", "open か closed です（カンマ区切り可） / open or closed")
        query.statuses = statuses
    if start_date is not None:
        query.start = parse_datetime(start_date, "start_date")
    if end_date is not None:
        query.end = parse_datetime(end_date, "end_date")
    return query


def _filtered(statement: Any, query: RequestQuery, now: datetime | None) -> Any:
    if query.ids is not None:
        statement = statement.where(ServiceRequest.id.in_(query.ids))
    else:
        start = query.start
        if start is None and query.end is None:
            start = (now or utcnow()) - timedelta(days=DEFAULT_DAYS)
        if start is not None:
            statement = statement.where(ServiceRequest.requested_at >= start)
        if query.end is not None:
            statement = statement.where(ServiceRequest.requested_at <= query.end)
        if query.service_codes:
            statement = statement.where(ServiceRequest.service_code.in_(query.service_codes))
        if query.statuses:
            statement = statement.where(ServiceRequest.status.in_(query.statuses))
    statement = statement.order_by(ServiceRequest.requested_at.desc(), ServiceRequest.id.desc())
    return statement.limit(query.limit).offset(query.offset)


def count_by_status(
    session: Session, query: RequestQuery, *, now: datetime | None = None
) -> dict[str, int]:
    """How many requests the filters find, per Open311 status (open/closed), ignoring paging."""
    every = replace(query, limit=MAX_COUNTED, offset=0)
    found = _filtered(select(ServiceRequest.status), every, now).order_by(None).subquery()
    counted = select(found.c.status, func.count()).group_by(found.c.status)
    counts = {"open": 0, "closed": 0}
    counts.update({status: int(n) for status, n in session.execute(counted)})
    return counts


def find_requests(
    session: Session, query: RequestQuery, *, now: datetime | None = None
) -> list[ServiceRequest]:
    """Requests newest first; without dates, those of the last 90 days."""
    # The ten services once (each row then finds its own in the session instead of a join
    # decoding the service's JSON columns per row); attributes only when read.
    list_services(session)
    statement = select(ServiceRequest).options(
        lazyload(ServiceRequest.service), defer(ServiceRequest.attributes)
    )
    return list(session.scalars(_filtered(statement, query, now)))


# What Open311 shows of a request: read as plain rows for GET requests (up to 1000 at a time,
# the busiest public read), without building ORM objects.
PUBLIC_COLUMNS = (
    ServiceRequest.id,
    ServiceRequest.status,
    ServiceRequest.state,
    ServiceRequest.status_notes,
    ServiceRequest.service_code,
    ServiceRequest.description,
    ServiceRequest.department_ja,
    ServiceRequest.department_en,
    ServiceRequest.requested_at,
    ServiceRequest.updated_at,
    ServiceRequest.expected_at,
    ServiceRequest.address_string,
    ServiceRequest.town,
    ServiceRequest.address_id,
    ServiceRequest.lat,
    ServiceRequest.lon,
    ServiceRequest.media_url,
)


def find_public_rows(
    session: Session, query: RequestQuery, *, now: datetime | None = None
) -> list[Any]:
    """The public columns of the requests :func:`find_requests` finds, as rows."""
    return list(session.execute(_filtered(select(*PUBLIC_COLUMNS), query, now)))


def first_photos(session: Session, request_ids: Sequence[int]) -> dict[int, ReportPhoto]:
    """The first photo of each of these requests (thumbnails of a list), in one query."""
    found: dict[int, ReportPhoto] = {}
    if not request_ids:
        return found
    rows = session.scalars(
        select(ReportPhoto)
        .where(ReportPhoto.request_id.in_(list(request_ids)))
        .order_by(ReportPhoto.id)
    )
    for photo in rows:
        found.setdefault(photo.request_id, photo)
    return found


def service_names(session: Session) -> dict[str, tuple[str, str]]:
    return {s.code: (s.name_ja, s.name_en) for s in session.scalars(select(ReportService))}


def _request_id(service_request_id: str | int) -> int | None:
    value = str(service_request_id).strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else None


def get_request(session: Session, service_request_id: str | int) -> ServiceRequest:
    number = _request_id(service_request_id)
    found = session.get(ServiceRequest, number) if number is not None else None
    if found is None:
        raise NotFoundProblem(
            f"受付番号 {str(service_request_id)[:40]!r} の報告はありません / "
            "no service request with this id",
        )
    return found


def request_for_token(session: Session, token: str) -> ServiceRequest:
    found = session.scalar(select(ServiceRequest).where(ServiceRequest.token == token[:40]))
    if found is None:
        raise NotFoundProblem(
            "このトークンの報告はありません / no service request with this token",
        )
    return found


def history(session: Session, service_request_id: str | int) -> list[StatusChange]:
    request = session.scalar(
        select(ServiceRequest)
        .where(ServiceRequest.id == get_request(session, service_request_id).id)
        .options(selectinload(ServiceRequest.changes))
    )
    assert request is not None
    return list(request.changes)


# --- staff: statuses -----------------------------------------------------------------------

# Which status may follow which; a finished request may be reopened (対応中 again).
NEXT_STATES: dict[str, frozenset[str]] = {
    RECEIVED: frozenset({IN_PROGRESS, DONE, "declined"}),
    IN_PROGRESS: frozenset({RECEIVED, DONE, "declined"}),
    DONE: frozenset({IN_PROGRESS}),
    "declined": frozenset({IN_PROGRESS}),
    MERGED: frozenset(),  # merged into another report: that one is followed instead
}
# The statuses staff choose on the workflow page (merging is its own action).
STAFF_STATES = (RECEIVED, IN_PROGRESS, DONE, DECLINED)
DEPARTMENTS: dict[str, str] = dict(
    [
        catalog.ROAD_DIVISION,
        catalog.PARK_DIVISION,
        catalog.WASTE_DIVISION,
        catalog.ENVIRONMENT_DIVISION,
        catalog.TRAFFIC_DIVISION,
        catalog.SEWER_DIVISION,
        catalog.PUBLIC_RELATIONS,
    ]
)
DEPARTMENT_NAMES = tuple(DEPARTMENTS)


def change_status(
    session: Session,
    service_request_id: str | int,
    state: str,
    *,
    actor: User,
    note: str = "",
    department: str | None = None,
    expected_at: datetime | None = None,
    now: datetime | None = None,
    photo: photos.PreparedPhoto | None = None,
    photo_kind: str = "after",
    files: FileStore | None = None,
    site_url: str = "",
) -> ServiceRequest:
    """Move a request to ``state`` with a public note; kept in its history and the audit log.

    The same status again records a note, a new department or a photo without a change of
    status. A before/after ``photo`` is published with the change. A change of status is
    told to whoever asked for updates (a :class:`ReportStatusChanged` after commit).
    """
    request = get_request(session, service_request_id)
    errors = Errors()
    if state not in STAFF_STATES:
        errors.add("status", f"状態は {', '.join(STAFF_STATES)} のいずれかです / unknown status")
    if photo is not None and photo_kind not in ("before", "after"):
        errors.add("photo_kind", "before か after です / before or after")
    note = clean_text(errors, "note", note, MAX_NOTE, one_line=False)
    if department is not None and department not in DEPARTMENTS:
        errors.add(
            "department", f"担当課は {', '.join(DEPARTMENTS)} のいずれかです / unknown department"
        )
    errors.raise_any()
    previous = request.state
    if previous == MERGED:
        raise ConflictProblem(
            f"この報告は {request.merged_into_id} 番に統合済みです。そちらで対応してください / "
            f"this report was merged into {request.merged_into_id}; handle that one",
        )
    unchanged = department is None or department == request.department_ja
    if state == previous and not note and unchanged and expected_at is None and photo is None:
        raise ConflictProblem(
            f"すでに「{STATES[state][0]}」です。メモを添えてください / the request is already "
            f"{STATES[state][1].lower()}; add a note to record something",
        )
    if state != previous and state not in NEXT_STATES[previous]:
        raise ConflictProblem(
            f"「{STATES[previous][0]}」から「{STATES[state][0]}」には変えられません / "
            f"cannot go from {STATES[previous][1]} to {STATES[state][1]}",
        )
    now = now or utcnow()
    request.state = state
    request.status = STATES[state][2]
    if note:
        request.status_notes = note
    if department is not None:
        request.department_ja, request.department_en = department, DEPARTMENTS[department]
    if expected_at is not None:
        request.expected_at = expected_at
    if request.status == "closed" and request.closed_at is None:
        request.closed_at = now
    elif request.status == "open":
        request.closed_at = None
    request.updated_at = now
    request.changes.append(
        StatusChange(
            from_state=previous,
            to_state=state,
            note=note,
            department_ja=request.department_ja,
            by_name=actor.name,
            at=now,
        )
    )
    detail: dict[str, Any] = {
        "from": previous,
        "to": state,
        "note": note,
        "department": request.department_ja,
    }
    if photo is not None:
        if files is None:
            raise ValueError("a photo needs the file store")
        stored = _attach_photo(
            session, request, photo, files, kind=photo_kind, by_name=actor.name, now=now
        )
        detail["photo"] = {"kind": photo_kind, "digest": stored.digest}
    audit.record(
        session,
        actor,
        "reports.status",
        "service_request",
        str(request.id),
        summary=f"{STATES[previous][0]} → {STATES[state][0]}",
        detail=detail,
        via="api",
    )
    session.flush()
    if state != previous:
        _tell_followers(session, request, previous, note, site_url)
    return request


def followers(session: Session, request: ServiceRequest) -> list[str]:
    """The e-mail addresses that asked for updates on ``request``: its reporter's and those of
    the duplicates merged into it (each once)."""
    merged = session.scalars(
        select(ServiceRequest.email).where(
            ServiceRequest.merged_into_id == request.id, ServiceRequest.email != ""
        )
    )
    found: dict[str, None] = {}
    for email in [request.email, *merged]:
        if email:
            found.setdefault(email.lower(), None)
    return list(found)


def public_url(site_url: str, request_id: int) -> str:
    return f"{site_url.rstrip('/')}/reports/{request_id}"


def _tell_followers(
    session: Session, request: ServiceRequest, previous: str, note: str, site_url: str
) -> None:
    recipients = tuple(followers(session, request))
    if not recipients:
        return
    emit(
        session,
        ReportStatusChanged(
            request_id=request.id,
            service_ja=request.service.name_ja,
            service_en=request.service.name_en,
            from_state=previous,
            to_state=request.state,
            state_ja=STATES[request.state][0],
            state_en=STATES[request.state][1],
            note=note,
            url=public_url(site_url, request.id),
            recipients=recipients,
        ),
    )


# --- staff: photos, duplicates, merging ----------------------------------------------------


def add_photo(
    session: Session,
    service_request_id: str | int,
    photo: photos.PreparedPhoto,
    *,
    kind: str,
    actor: User,
    files: FileStore,
) -> ReportPhoto:
    """A before/after photo from staff, without a change of status; in the audit log."""
    request = get_request(session, service_request_id)
    if kind not in ("before", "after"):
        raise _bad("photo_kind", "before か after です / before or after")
    stored = _attach_photo(
        session, request, photo, files, kind=kind, by_name=actor.name, now=utcnow()
    )
    request.updated_at = utcnow()
    audit.record(
        session,
        actor,
        "reports.photo",
        "service_request",
        str(request.id),
        summary=PHOTO_KINDS[kind][0],
        detail={"kind": kind, "digest": stored.digest},
        via="api",
    )
    session.flush()
    return stored


@dataclass
class Duplicate:
    request: ServiceRequest
    distance_m: float
    days_apart: float


def likely_duplicates(
    session: Session,
    service_request_id: str | int,
    *,
    radius_m: float = DUPLICATE_RADIUS_M,
    window: timedelta = DUPLICATE_WINDOW,
) -> list[Duplicate]:
    """Open reports of the same service within ``radius_m`` and ``window`` of this one,
    nearest first: the ones staff probably want to merge."""
    request = get_request(session, service_request_id)
    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(0.1, math.cos(math.radians(request.lat))))
    candidates = session.scalars(
        select(ServiceRequest).where(
            ServiceRequest.id != request.id,
            ServiceRequest.service_code == request.service_code,
            ServiceRequest.status == "open",
            ServiceRequest.merged_into_id.is_(None),
            ServiceRequest.lat.between(request.lat - dlat, request.lat + dlat),
            ServiceRequest.lon.between(request.lon - dlon, request.lon + dlon),
            ServiceRequest.requested_at.between(
                request.requested_at - window, request.requested_at + window
            ),
        )
    )
    found = []
    for other in candidates:
        metres = distance_m(request.lat, request.lon, other.lat, other.lon)
        if metres <= radius_m:
            days = abs((other.requested_at - request.requested_at).total_seconds()) / 86400
            found.append(Duplicate(other, round(metres, 1), round(days, 2)))
    return sorted(found, key=lambda d: (d.distance_m, d.days_apart))


def merge_into(
    session: Session,
    duplicate_id: str | int,
    kept_id: str | int,
    *,
    actor: User,
    site_url: str = "",
    now: datetime | None = None,
) -> ServiceRequest:
    """Close ``duplicate_id`` as merged into ``kept_id`` with a public note pointing at it;
    its reporter then follows the kept report. In the audit log."""
    duplicate = get_request(session, duplicate_id)
    kept = get_request(session, kept_id)
    if duplicate.id == kept.id:
        raise _bad("into", "同じ報告には統合できません / cannot merge a report into itself")
    if duplicate.state == MERGED:
        raise ConflictProblem(
            f"{duplicate.id} 番はすでに {duplicate.merged_into_id} 番に統合済みです / "
            f"{duplicate.id} was merged into {duplicate.merged_into_id} already"
        )
    if kept.state == MERGED:
        raise ConflictProblem(
            f"{kept.id} 番は統合済みです。{kept.merged_into_id} 番を指定してください / "
            f"{kept.id} was itself merged; merge into {kept.merged_into_id}"
        )
    now = now or utcnow()
    previous = duplicate.state
    note = (
        f"同じ内容の報告 {kept.id} 番にまとめました。対応状況は {kept.id} 番でご確認ください / "
        f"Merged into report {kept.id}, which has the same problem: follow it there. "
        f"{public_url(site_url, kept.id)}"
    )
    duplicate.state, duplicate.status = MERGED, STATES[MERGED][2]
    duplicate.status_notes = note
    duplicate.merged_into_id = kept.id
    duplicate.closed_at = duplicate.closed_at or now
    duplicate.updated_at = now
    duplicate.changes.append(
        StatusChange(
            from_state=previous,
            to_state=MERGED,
            note=note,
            department_ja=duplicate.department_ja,
            by_name=actor.name,
            at=now,
        )
    )
    # Duplicates merged into this one before follow the kept one too.
    for earlier in session.scalars(
        select(ServiceRequest).where(ServiceRequest.merged_into_id == duplicate.id)
    ):
        earlier.merged_into_id = kept.id
    audit.record(
        session,
        actor,
        "reports.merge",
        "service_request",
        str(duplicate.id),
        summary=f"{duplicate.id} → {kept.id}",
        detail={"into": kept.id, "from": previous},
        via="api",
    )
    session.flush()
    _tell_followers(session, duplicate, previous, note, site_url)
    return duplicate


# --- staff: the inbox ----------------------------------------------------------------------


@dataclass
class InboxFilter:
    state: str = ""
    service_code: str = ""
    town: str = ""
    department: str = ""
    days: int = 0

    def check(self) -> InboxFilter:
        errors = Errors()
        if self.state and self.state not in (*STATES, "open", "closed"):
            errors.add("state", "状態の指定が正しくありません / unknown status")
        if self.service_code and self.service_code not in catalog.SERVICE_CODES:
            errors.add("service_code", "サービスコードがありません / unknown service_code")
        if self.department and self.department not in DEPARTMENTS:
            errors.add("department", "担当課がありません / unknown department")
        if not 0 <= self.days <= 3660:
            errors.add("days", "0〜3660 日です / 0 to 3660 days")
        self.town = self.town.strip()[:60]
        errors.raise_any()
        return self


def inbox(
    session: Session, where: InboxFilter, *, limit: int = 500, now: datetime | None = None
) -> list[ServiceRequest]:
    """Reports for staff, newest first, with the filters of the inbox."""
    statement = select(ServiceRequest)
    if where.state in ("open", "closed"):
        statement = statement.where(ServiceRequest.status == where.state)
    elif where.state:
        statement = statement.where(ServiceRequest.state == where.state)
    if where.service_code:
        statement = statement.where(ServiceRequest.service_code == where.service_code)
    if where.town:
        statement = statement.where(ServiceRequest.town == where.town)
    if where.department:
        statement = statement.where(ServiceRequest.department_ja == where.department)
    if where.days:
        since = (now or utcnow()) - timedelta(days=where.days)
        statement = statement.where(ServiceRequest.requested_at >= since)
    statement = statement.order_by(ServiceRequest.requested_at.desc(), ServiceRequest.id.desc())
    return list(session.scalars(statement.limit(limit)))


def towns_with_reports(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(ServiceRequest.town)
            .where(ServiceRequest.town != "")
            .distinct()
            .order_by(ServiceRequest.town)
        )
    )


def requests_by_tokens(session: Session, tokens: Sequence[str]) -> list[ServiceRequest]:
    """The reports a browser sent (its kept tokens), newest first: "my reports"."""
    wanted = [t[:40] for t in tokens if t][:MAX_IDS]
    if not wanted:
        return []
    found = session.scalars(select(ServiceRequest).where(ServiceRequest.token.in_(wanted)))
    return sorted(found, key=lambda r: r.requested_at, reverse=True)


def reporter_contact(
    session: Session, service_request_id: str | int, *, actor: User
) -> dict[str, str]:
    """The reporter's contact details for staff; every read is in the audit log."""
    request = get_request(session, service_request_id)
    audit.record(
        session, actor, "reports.read_contact", "service_request", str(request.id), via="api"
    )
    return {
        "email": request.email,
        "phone": request.phone,
        "first_name": request.first_name,
        "last_name": request.last_name,
        "device_id": request.device_id,
        "account_id": request.account_id,
    }


# --- numbers for the city ------------------------------------------------------------------


@dataclass
class Tally:
    open: int = 0
    closed: int = 0
    days_to_close: list[float] = field(default_factory=list)

    @property
    def median_days_to_close(self) -> float | None:
        if not self.days_to_close:
            return None
        return round(stats.median(self.days_to_close), 2)


@dataclass
class Numbers:
    total: Tally
    by_service: dict[str, Tally]
    by_town: dict[str, Tally]


def numbers(
    session: Session, *, start: datetime | None = None, end: datetime | None = None
) -> Numbers:
    """Open and closed requests per category and per 町丁目, and the median days to close."""
    statement = select(
        ServiceRequest.service_code,
        ServiceRequest.town,
        ServiceRequest.status,
        ServiceRequest.requested_at,
        ServiceRequest.closed_at,
    )
    # A merged duplicate is the same problem as the report it went into: counted once.
    statement = statement.where(ServiceRequest.state != MERGED)
    if start is not None:
        statement = statement.where(ServiceRequest.requested_at >= start)
    if end is not None:
        statement = statement.where(ServiceRequest.requested_at <= end)
    total = Tally()
    by_service: dict[str, Tally] = {code: Tally() for code in catalog.SERVICE_CODES}
    by_town: dict[str, Tally] = {}
    for code, town, status, requested_at, closed_at in session.execute(statement):
        for tally in (
            total,
            by_service.setdefault(code, Tally()),
            by_town.setdefault(town, Tally()),
        ):
            if status == "closed":
                tally.closed += 1
                if closed_at is not None:
                    tally.days_to_close.append((closed_at - requested_at).total_seconds() / 86400)
            else:
                tally.open += 1
    return Numbers(total, by_service, dict(sorted(by_town.items())))


def count_requests(session: Session) -> int:
    return int(session.scalar(select(func.count(ServiceRequest.id))) or 0)


# --- api keys ------------------------------------------------------------------------------


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_api_key(session: Session, name: str, contact: str = "") -> str:
    """A new Open311 api_key for an application; the plain key is returned once, never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    session.add(
        ReportApiKey(name=name[:100], contact=contact[:254], key_hash=_digest(key), prefix=key[:9])
    )
    session.flush()
    return key


def poster_for_key(session: Session, key: str) -> str | None:
    """Who posts with ``key`` (an application's Open311 key, or a staff API token of someone
    who may manage reports); None for an unknown, revoked or unauthorized key."""
    key = key.strip()
    if key.startswith(auth.TOKEN_PREFIX) or key.lower().startswith("bearer "):
        user = auth.user_for_token(session, key)
        if user is None or not auth.can(user, MANAGE_PERMISSION):
            return None
        return f"staff:{user.name}"
    if not key.startswith(KEY_PREFIX):
        return None
    row = session.scalar(
        select(ReportApiKey).where(ReportApiKey.key_hash == _digest(key), ReportApiKey.active)
    )
    if row is None:
        return None
    row.last_used_at = utcnow()
    return f"key:{row.name}"


def revoke_api_keys(session: Session, names: Iterable[str]) -> int:
    rows = session.scalars(select(ReportApiKey).where(ReportApiKey.name.in_(list(names))))
    count = 0
    for row in rows:
        if row.active:
            row.active = False
            count += 1
    return count


# --- staff views ---------------------------------------------------------------------------


def photo_dict(photo: ReportPhoto, site_url: str = "") -> dict[str, Any]:
    base = site_url.rstrip("/")
    return {
        "kind": photo.kind,
        "url": base + photos.photo_path(photo.digest),
        "thumbnail_url": base + photos.photo_path(photo.thumb_digest),
        "width": photo.width,
        "height": photo.height,
        "at": photo.created_at.isoformat(),
    }


def request_dict(request: ServiceRequest, site_url: str = "") -> dict[str, Any]:
    """A request as staff's JSON shows it (the reporter's contact is a separate, audited read)."""
    return {
        "id": request.id,
        "service_code": request.service_code,
        "service_name": request.service.name_ja,
        "state": request.state,
        "state_label": STATES[request.state][0],
        "status": request.status,
        "status_notes": request.status_notes,
        "department": request.department_ja,
        "lat": request.lat,
        "long": request.lon,
        "town": request.town,
        "address_string": request.address_string,
        "description": request.description,
        "media_url": request.media_url or None,
        "attributes": request.attributes,
        "requested_at": request.requested_at.isoformat(),
        "updated_at": request.updated_at.isoformat(),
        "closed_at": request.closed_at.isoformat() if request.closed_at else None,
        "merged_into": request.merged_into_id,
        "has_email": bool(request.email),
        "photos": [photo_dict(p, site_url) for p in request.photos],
    }


def change_dict(change: StatusChange) -> dict[str, Any]:
    return {
        "from": change.from_state or None,
        "to": change.to_state,
        "note": change.note,
        "department": change.department_ja,
        "by": change.by_name,
        "at": change.at.isoformat(),
    }


def _tally_dict(tally: Tally) -> dict[str, Any]:
    return {
        "open": tally.open,
        "closed": tally.closed,
        "median_days_to_close": tally.median_days_to_close,
    }


def numbers_dict(found: Numbers) -> dict[str, Any]:
    return {
        "total": _tally_dict(found.total),
        "by_service": {code: _tally_dict(t) for code, t in found.by_service.items()},
        "by_town": {town or "（不明）": _tally_dict(t) for town, t in found.by_town.items()},
    }


def numbers_csv(session: Session, *, start: datetime | None = None) -> bytes:
    """The numbers as one Excel-safe sheet: a row per category, then a row per 町丁目."""
    found = numbers(session, start=start)
    names = {s.code: s.name_ja for s in list_services(session)}
    rows: list[list[Any]] = [
        ["total", "", "合計", t.open, t.closed, t.open + t.closed, t.median_days_to_close]
        for t in [found.total]
    ]
    for code, tally in found.by_service.items():
        rows.append(
            [
                "service",
                code,
                names.get(code, code),
                tally.open,
                tally.closed,
                tally.open + tally.closed,
                tally.median_days_to_close,
            ]
        )
    for town, tally in found.by_town.items():
        rows.append(
            [
                "town",
                "",
                town or "（不明）",
                tally.open,
                tally.closed,
                tally.open + tally.closed,
                tally.median_days_to_close,
            ]
        )
    return excel_csv(
        ("group", "code", "name", "open", "closed", "total", "median_days_to_close"),
        ("区分", "コード", "名称", "未完了", "完了", "合計", "完了までの日数（中央値）"),
        rows,
    )
