"""Shelters, their live status, the nearest open shelter, check-ins and disaster mode.

Shelters are read from the open data portal's standard datasets (指定避難所一覧 and
指定緊急避難場所一覧, including the 国土地理院 GeoJSON converted on upload) and merged by name
and address: a school is often both a shelter to stay in and a site to flee to. Staff then
set each one's live status. Every change bumps a version number, so caches in every worker
and the static snapshot follow at once.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.address import service as address
from cityos.core import audit, text
from cityos.core.auth import can
from cityos.core.errors import (
    AuthenticationProblem,
    ForbiddenProblem,
    NotFoundProblem,
    ValidationProblem,
)
from cityos.core.events import DisasterModeChanged, ShelterStatusChanged, emit
from cityos.core.geo import distance_m
from cityos.core.models import User
from cityos.db import utcnow
from cityos.disaster.models import (
    BlockedPlace,
    CheckIn,
    DisasterMode,
    DisasterModeChange,
    Shelter,
    ShelterStatus,
    ShelterStatusChange,
)
from cityos.opendata import service as opendata

SHELTER_SCHEMAS = ("designated_shelters", "emergency_evacuation_sites")
HAZARDS: dict[str, tuple[str, str]] = {
    "flood": ("洪水", "Flood"),
    "landslide": ("崖崩れ・土石流・地滑り", "Landslide"),
    "storm_surge": ("高潮", "Storm surge"),
    "earthquake": ("地震", "Earthquake"),
    "tsunami": ("津波", "Tsunami"),
    "fire": ("大規模な火事", "Large fire"),
    "inland_flood": ("内水氾濫", "Inland flooding"),
    "volcano": ("火山現象", "Volcanic activity"),
}
_HAZARD_COLUMNS = {
    "災害種別_洪水": "flood",
    "災害種別_崖崩れ、土石流及び地滑り": "landslide",
    "災害種別_高潮": "storm_surge",
    "災害種別_地震": "earthquake",
    "災害種別_津波": "tsunami",
    "災害種別_大規模な火事": "fire",
    "災害種別_内水氾濫": "inland_flood",
    "災害種別_火山現象": "volcano",
}
CROWDING = {
    "vacant": ("空きあり", "Space available"),
    "crowded": ("混雑", "Crowded"),
    "full": ("満員", "Full"),
    "unknown": ("人数不明", "Occupancy unknown"),
    "closed": ("閉鎖中", "Closed"),
}
WALKING_M_PER_MIN = 4000 / 60  # 4 km/h
JAPAN_LAT = (20.0, 46.0)
JAPAN_LON = (122.0, 154.0)
STATUS_FLAGS = ("wifi", "charging", "pets", "accessible_toilet", "nursing_room")


def require_manager(actor: User | None) -> User:
    if actor is None:
        raise AuthenticationProblem("ログインしてください / please log in")
    if not can(actor, "disaster.manage"):
        raise ForbiddenProblem(
            "防災担当の職員だけができる操作です / only disaster staff may do this"
        )
    return actor


# --- version ----------------------------------------------------------------------------


def mode_row(session: Session) -> DisasterMode:
    row = session.get(DisasterMode, 1)
    if row is None:
        row = DisasterMode(id=1)
        session.add(row)
        session.flush()
    return row


def active_mode(session: Session) -> DisasterMode | None:
    """The disaster mode when it is on; read-only, so any transaction may ask."""
    row = session.get(DisasterMode, 1)
    return row if row is not None and row.active else None


def bump_version(session: Session) -> int:
    """Mark that disaster information changed (caches and the snapshot follow)."""
    row = mode_row(session)
    row.version = (row.version or 0) + 1
    return row.version


def current_version(session: Session) -> int:
    version = session.scalar(select(DisasterMode.version).where(DisasterMode.id == 1))
    return int(version or 0)


# --- syncing shelters from the open data portal -----------------------------------------


@dataclass
class SyncReport:
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    sources: list[str] = field(default_factory=list)


def _flag(value: Any) -> bool:
    return str(value or "").strip() in ("1", "○", "〇", "◯", "有", "true", "True", "yes")


def _key(name: str, written_address: str) -> str:
    place = address.normalize(written_address)
    where = (
        "".join(p or "" for p in (place.pref, place.city, place.town, place.addr))
        or written_address
    )
    return f"{text.search_key(name)}|{text.search_key(where)}"[:300]


def sync_shelters(session: Session) -> SyncReport:
    """Read every shelter dataset of the portal into the shelter list (idempotent).

    Places missing from the datasets are deactivated, not deleted, so their history stays.
    """
    report = SyncReport()
    seen: dict[str, dict[str, Any]] = {}
    for resource in opendata.resources_with_schema(session, SHELTER_SCHEMAS):
        report.sources.append(resource.id)
        emergency = resource.dataset.schema_id == "emergency_evacuation_sites"
        for row in opendata.records(session, resource):
            name = str(row.get("名称") or "").strip()
            if not name:
                continue
            written = str(row.get("住所") or "").strip()
            key = _key(name, written)
            item = seen.setdefault(
                key,
                {"name": name, "address": written, "hazards": set(), "sources": set(),
                 "is_shelter": False, "is_emergency_site": False, "capacity": None,
                 "accepts": "", "phone": "", "lat": None, "lon": None},
            )  # fmt: skip
            item["sources"].add(resource.id)
            item["is_emergency_site" if emergency else "is_shelter"] = True
            item["hazards"] |= {
                h for column, h in _HAZARD_COLUMNS.items() if _flag(row.get(column))
            }
            if row.get("緯度") is not None and row.get("経度") is not None and item["lat"] is None:
                item["lat"], item["lon"] = float(row["緯度"]), float(row["経度"])
            if isinstance(row.get("想定収容人数"), int):
                item["capacity"] = row["想定収容人数"]
            item["accepts"] = item["accepts"] or str(row.get("受入対象者") or "")
            item["phone"] = item["phone"] or str(row.get("電話番号") or "")
    existing = {s.key: s for s in session.scalars(select(Shelter))}
    for key, item in seen.items():
        place = address.normalize(item["address"])
        values = {
            "name": item["name"][:300],
            "address": item["address"][:300],
            "pref": place.pref or "",
            "city": place.city or "",
            "town": place.town or "",
            "lat": item["lat"] if item["lat"] is not None else place.lat,
            "lon": item["lon"] if item["lon"] is not None else place.lon,
            "is_shelter": item["is_shelter"],
            "is_emergency_site": item["is_emergency_site"],
            "hazards": sorted(item["hazards"]),
            "capacity": item["capacity"],
            "accepts": item["accepts"][:200],
            "phone": item["phone"][:40],
            "sources": sorted(item["sources"]),
            "active": True,
            "synced_at": utcnow(),
        }
        shelter = existing.get(key)
        if shelter is None:
            shelter = Shelter(key=key, **values)
            shelter.status = ShelterStatus()
            session.add(shelter)
            report.created += 1
        else:
            for name, value in values.items():
                setattr(shelter, name, value)
            report.updated += 1
    for key, shelter in existing.items():
        if key not in seen and shelter.active:
            shelter.active = False
            report.deactivated += 1
    bump_version(session)
    session.flush()
    return report


# --- listing and status ------------------------------------------------------------------


def list_shelters(
    session: Session, *, open_only: bool = False, hazard: str | None = None
) -> list[Shelter]:
    query = select(Shelter).where(Shelter.active).order_by(Shelter.name)
    shelters = list(session.scalars(query).unique())
    if open_only:
        shelters = [s for s in shelters if s.status is not None and s.status.is_open]
    if hazard:
        shelters = [s for s in shelters if suits(s, hazard)]
    return shelters


def get_shelter(session: Session, shelter_id: str) -> Shelter:
    shelter = session.get(Shelter, shelter_id) if isinstance(shelter_id, str) else None
    if shelter is None:
        raise NotFoundProblem(f"避難所 {shelter_id!r} は見つかりません / shelter not found")
    return shelter


def check_hazard(hazard: str | None) -> str | None:
    if hazard in (None, ""):
        return None
    if hazard not in HAZARDS:
        raise ValidationProblem(
            f"災害の種類は {', '.join(HAZARDS)} のいずれかです / hazard must be one of "
            f"{', '.join(HAZARDS)}",
            errors={"hazard": ["unknown hazard"]},
        )
    return hazard


def suits(shelter: Shelter, hazard: str | None) -> bool:
    """Designated for this hazard; 内水氾濫 counts as 洪水 and back when only one is listed."""
    if not hazard:
        return True
    hazards = set(shelter.hazards or [])
    if hazard in hazards:
        return True
    if not hazards:
        # 指定避難所 without hazard data: fine for staying after an earthquake or fire.
        return shelter.is_shelter and hazard in ("earthquake", "fire")
    return {hazard, *hazards} <= {"flood", "inland_flood"} and bool(hazards)


def crowding(shelter: Shelter) -> str:
    status = shelter.status
    if status is None or not status.is_open:
        return "closed"
    capacity = status.capacity or shelter.capacity
    if not capacity:
        return "unknown"
    ratio = status.people / capacity
    if ratio >= 1:
        return "full"
    return "crowded" if ratio >= 0.8 else "vacant"


_STATUS_TYPES: dict[str, type] = {
    "is_open": bool, "people": int, "capacity": int, "wifi": bool, "charging": bool,
    "pets": bool, "accessible_toilet": bool, "nursing_room": bool, "supplies_short": str,
    "notes": str,
}  # fmt: skip


def _status_value(name: str, value: Any, errors: dict[str, list[str]]) -> Any:
    kind = _STATUS_TYPES[name]
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "on", "yes"):
            return True
        if str(value).lower() in ("false", "0", "off", "no", ""):
            return False
        errors.setdefault(name, []).append("true か false です / must be true or false")
        return None
    if kind is int:
        if value in (None, "") and name == "capacity":
            return None
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            errors.setdefault(name, []).append("0以上の整数です / must be a whole number")
            return None
        if number < 0 or number > 100_000:
            errors.setdefault(name, []).append("0〜100000 です / must be 0-100000")
            return None
        return number
    cleaned = text.normalize(str(value or ""))
    limit = 500 if name == "supplies_short" else 2000
    if len(cleaned) > limit:
        errors.setdefault(name, []).append(f"{limit}文字までです / at most {limit} characters")
    return cleaned[:limit]


def update_status(
    session: Session,
    actor: User | None,
    shelter_id: str,
    changes: dict[str, Any],
    *,
    via: str = "web",
) -> Shelter:
    """Set what staff report (open, people, services, notes); every change is logged."""
    require_manager(actor)
    assert actor is not None
    shelter = get_shelter(session, shelter_id)
    unknown = sorted(set(changes) - set(_STATUS_TYPES))
    if unknown:
        raise ValidationProblem(
            f"変更できない項目です: {', '.join(unknown)} / unknown fields: {', '.join(unknown)}",
            errors={name: ["unknown field"] for name in unknown},
        )
    errors: dict[str, list[str]] = {}
    values = {name: _status_value(name, value, errors) for name, value in changes.items()}
    if errors:
        raise ValidationProblem(
            "避難所の状況に誤りがあります / invalid shelter status", errors=errors
        )
    status = shelter.status or ShelterStatus(shelter_id=shelter.id)
    shelter.status = status
    changed = {
        name: [getattr(status, name), value]
        for name, value in values.items()
        if getattr(status, name) != value
    }
    if not changed:
        return shelter
    for name, (_old, value) in changed.items():
        setattr(status, name, value)
    status.updated_at = utcnow()
    status.updated_by = actor.name
    session.add(ShelterStatusChange(shelter_id=shelter.id, by=actor.name, changes=changed))
    audit.record(
        session,
        actor,
        "shelter.status",
        "shelter",
        shelter.id,
        summary=shelter.name,
        detail=changed,
        via=via,
    )
    bump_version(session)
    session.flush()
    emit(session, ShelterStatusChanged(shelter.id, shelter.name, status.is_open, crowding(shelter)))
    return shelter


def status_history(session: Session, shelter_id: str, limit: int = 50) -> list[ShelterStatusChange]:
    query = (
        select(ShelterStatusChange)
        .where(ShelterStatusChange.shelter_id == shelter_id)
        .order_by(ShelterStatusChange.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


# --- nearest open shelters ---------------------------------------------------------------


def check_point(lat: float, lon: float) -> None:
    if not (JAPAN_LAT[0] <= lat <= JAPAN_LAT[1] and JAPAN_LON[0] <= lon <= JAPAN_LON[1]):
        raise ValidationProblem(
            "日本国内の緯度・経度を指定してください / the point is outside Japan",
            errors={"lat": ["outside Japan"], "lon": ["outside Japan"]},
        )


@dataclass
class Candidate:
    id: str
    name: str
    lat: float
    lon: float
    distance_m: float
    walking_minutes: int
    via_network: bool
    crowding: str
    address: str = ""
    is_open: bool = False


class _PoolRow(NamedTuple):
    id: str
    name: str
    lat: float
    lon: float
    hazards: frozenset[str]
    is_shelter: bool
    for_care: bool  # 福祉避難所: only for people who need care (and their helpers)
    address: str
    is_open: bool
    crowding: str


@dataclass
class _OpenShelters:
    """The open shelters of one version, kept in memory for fast nearest queries."""

    version: int
    rows: list[_PoolRow]
    blocked: list[tuple[float, float, float]]  # places reported flooded or blocked: lat, lon, m


_pool_cache: dict[tuple[str, bool], _OpenShelters] = {}


def _shelter_pool(session: Session, open_only: bool = True) -> _OpenShelters:
    version = current_version(session)
    key = (str(session.connection().engine.url), open_only)
    cached = _pool_cache.get(key)
    if cached is not None and cached.version == version:
        return cached
    # Everything an answer shows is here: status changes bump the version, so no query more.
    rows = [
        _PoolRow(
            s.id,
            s.name,
            float(s.lat),
            float(s.lon),
            frozenset(s.hazards or []),
            s.is_shelter,
            bool(s.accepts),
            s.address,
            bool(s.status and s.status.is_open),
            crowding(s),
        )
        for s in list_shelters(session, open_only=open_only)
        if s.lat is not None and s.lon is not None
    ]
    blocked = [
        (b.lat, b.lon, b.radius_m)
        for b in session.scalars(select(BlockedPlace).where(BlockedPlace.active))
    ]
    fresh = _OpenShelters(version, rows, blocked)
    _pool_cache[key] = fresh
    return fresh


def _suits_row(hazards: frozenset[str], is_shelter: bool, hazard: str | None) -> bool:
    if not hazard or hazard in hazards:
        return True
    if not hazards:
        return is_shelter and hazard in ("earthquake", "fire")
    return {hazard, *hazards} <= {"flood", "inland_flood"}


def nearest_open_shelters(
    session: Session,
    lat: float,
    lon: float,
    *,
    hazard: str | None = None,
    limit: int = 5,
    step_free: bool = False,
    open_only: bool = True,
    welfare: bool = False,
) -> tuple[list[Candidate], bool]:
    """The nearest OPEN shelters suited to ``hazard``; and whether distances follow streets.

    Straight-line distances rank the shelters; where a pedestrian network is loaded the few
    nearest are measured along it, avoiding places reported flooded or blocked. With
    ``open_only=False`` every designated place counts (to know one's shelter in calm times).
    福祉避難所 (places only for people who need care, and their helpers) count with ``welfare``.
    """
    check_point(lat, lon)
    hazard = check_hazard(hazard)
    if not 1 <= limit <= 50:
        raise ValidationProblem(
            "limit は 1〜50 です / limit must be 1-50", errors={"limit": ["1-50"]}
        )
    pool = _shelter_pool(session, open_only)
    ranked = sorted(
        (
            (distance_m(lat, lon, row.lat, row.lon), row.id, row.name, row.lat, row.lon)
            for row in pool.rows
            if _suits_row(row.hazards, row.is_shelter, hazard) and (welfare or not row.for_care)
        ),
        key=lambda item: item[0],
    )[: max(limit * 2, limit)]
    routed = _walk(pool.blocked, lat, lon, ranked, step_free)
    by_id = {row.id: row for row in pool.rows}
    candidates = [
        Candidate(
            s_id,
            name,
            s_lat,
            s_lon,
            round(dist),
            _minutes(dist, step_free),
            via,
            by_id[s_id].crowding,
            by_id[s_id].address,
            by_id[s_id].is_open,
        )
        for (dist, s_id, name, s_lat, s_lon), via in routed
    ]
    # Measured along streets first: a straight-line figure (a shelter the network cannot
    # reach, or only through a blocked place) is a guess and goes after them.
    routed_any = any(c.via_network for c in candidates)
    candidates.sort(key=lambda c: (routed_any and not c.via_network, c.distance_m))
    chosen = candidates[:limit]
    return chosen, any(c.via_network for c in chosen)


def _minutes(metres: float, step_free: bool) -> int:
    speed = WALKING_M_PER_MIN * (0.75 if step_free else 1.0)
    return max(1, math.ceil(metres / speed))


def _walk(
    blocked: list[tuple[float, float, float]],
    lat: float,
    lon: float,
    ranked: list[tuple[float, str, str, float, float]],
    step_free: bool,
) -> list[tuple[tuple[float, str, str, float, float], bool]]:
    """Distances along the pedestrian network when one is loaded, else the straight line."""
    routing = _router()
    if routing is None or not ranked:
        return [(item, False) for item in ranked]
    routes = routing(
        lat,
        lon,
        [(s_id, s_lat, s_lon) for _d, s_id, _n, s_lat, s_lon in ranked],
        blocked,
        step_free,
    )
    results = []
    for item in ranked:
        found = routes.get(item[1])
        if found is None:
            results.append((item, False))
        else:
            results.append(((found[0], *item[1:]), found[1]))
    return results


RouterFn = Any
_ROUTER: list[RouterFn] = []


def set_router(router: RouterFn | None) -> None:
    """Install the pedestrian router (the mobility domain's), or None for straight lines.

    ``router(lat, lon, targets[(id, lat, lon)], blocked[(lat, lon, radius_m)], step_free)``
    returns ``{id: (distance_m, via_network)}``.
    """
    _ROUTER.clear()
    if router is not None:
        _ROUTER.append(router)


def _router() -> RouterFn | None:
    return _ROUTER[0] if _ROUTER else None


# --- where a resident is -----------------------------------------------------------------


def locate(
    session: Session,
    *,
    lat: float | None,
    lon: float | None,
    written: str | None,
    town: str | None,
    city: str,
) -> tuple[float, float, str]:
    """A point from the browser's location, a typed address or a town name; and a label."""
    if lat is not None and lon is not None:
        check_point(lat, lon)
        return lat, lon, "現在地 / your location"
    query = (written or town or "").strip()
    if not query:
        raise ValidationProblem(
            "現在地・住所・町名のどれかを指定してください / give a location, an address or a town",
            errors={"q": ["missing"]},
        )
    place = address.normalize(query, prefer_city=city)
    if place.level < address.LEVEL_TOWN or place.lat is None or place.lon is None:
        raise ValidationProblem(
            f"「{query}」の場所がわかりませんでした。町名（例: 下連雀三丁目）で試してください / "
            f"could not place {query!r}; try a town name such as 下連雀三丁目",
            errors={"q": ["unknown place"]},
        )
    label = "".join(p for p in (place.city, place.town, place.addr and f" {place.addr}") if p)
    return place.lat, place.lon, label


@cache
def city_towns(city: str) -> list[str]:
    """The 町名 of the city (下連雀, 野崎 …: the 丁目 families and plain towns), for forms."""
    from cityos.address.index import CITY_TOWN, load_index

    index = load_index()
    names: set[str] = set()
    for city_id, area in enumerate(index.cities):
        if area.name != city:
            continue
        scope = CITY_TOWN.format(city_id)
        for key in index.names_in(scope):
            for ref in index.refs(scope, key):
                place = index.place(ref)
                if place.family is not None or not place.town.endswith(("丁目", "丁")):
                    names.add(place.town)
    return sorted(names)


def check_towns(towns: Iterable[Any], city: str) -> list[str]:
    """Town names as the city writes them (下連雀, or 下連雀三丁目); unknown ones refused."""
    known = set(city_towns(city))
    result: set[str] = set()
    bad: list[str] = []
    for raw in towns:
        name = text.normalize(str(raw or ""))
        if not name:
            continue
        if name in known:
            result.add(name)
            continue
        place = address.normalize(f"{city}{name}", prefer_city=city)
        if place.city == city and place.town and any(place.town.startswith(t) for t in known):
            result.add(place.town)
        else:
            bad.append(name)
    if bad:
        raise ValidationProblem(
            f"{city}の町名ではありません: {', '.join(bad)} / not a town of {city}: {', '.join(bad)}",
            errors={"towns": [f"unknown town {b}" for b in bad]},
        )
    return sorted(result)


# --- check-in ------------------------------------------------------------------------------


def check_in(session: Session, shelter_id: str, display_name: str, message: str) -> CheckIn:
    """A resident at an open shelter gets a private link to give to family."""
    shelter = get_shelter(session, shelter_id)
    if shelter.status is None or not shelter.status.is_open:
        raise ValidationProblem(
            "この避難所は現在開設されていません / this shelter is not open now",
            errors={"shelter": ["not open"]},
        )
    name = text.normalize(display_name or "")[:100]
    note = text.normalize(message or "")[:500]
    entry = CheckIn(
        shelter_id=shelter.id, token=secrets.token_urlsafe(12), display_name=name, message=note
    )
    session.add(entry)
    session.flush()
    return entry


def checkin_by_token(session: Session, token: str) -> CheckIn:
    found = session.scalar(select(CheckIn).where(CheckIn.token == token)) if token else None
    if found is None:
        raise NotFoundProblem("このリンクは見つかりません / this link was not found")
    return found


def checkin_counts(session: Session) -> dict[str, int]:
    query = select(CheckIn.shelter_id, func.count()).group_by(CheckIn.shelter_id)
    return {str(shelter_id): int(count) for shelter_id, count in session.execute(query)}


# --- disaster mode -------------------------------------------------------------------------


def set_mode(
    session: Session,
    actor: User | None,
    *,
    active: bool,
    hazard: str | None,
    towns: Sequence[Any],
    city: str,
    message_ja: str = "",
    message_en: str = "",
    via: str = "web",
) -> DisasterMode:
    """Switch disaster mode on (for a hazard and areas; empty areas = the whole city) or off."""
    require_manager(actor)
    assert actor is not None
    row = mode_row(session)
    if active:
        hazard = check_hazard(hazard)
        if hazard is None:
            raise ValidationProblem(
                "災害の種類を選んでください / choose the hazard", errors={"hazard": ["missing"]}
            )
        checked = check_towns(towns, city)
    else:
        hazard, checked = "", []
    # Who is told that it ended: the towns (and hazard) of the mode that ends.
    told_towns, told_hazard = (checked, hazard or "") if active else (list(row.towns), row.hazard)
    row.active = active
    row.hazard = hazard or ""
    row.towns = checked
    row.message_ja = text.normalize(message_ja or "")[:2000]
    row.message_en = text.normalize(message_en or "")[:2000]
    row.changed_at = utcnow()
    row.changed_by = actor.name
    session.add(DisasterModeChange(by=actor.name, active=active, hazard=row.hazard, towns=checked))
    audit.record(
        session,
        actor,
        "disaster.mode",
        "disaster",
        "mode",
        summary=f"{'on' if active else 'off'} {row.hazard}",
        detail={"towns": checked},
        via=via,
    )
    bump_version(session)
    session.flush()
    names = HAZARDS.get(told_hazard, ("", ""))
    emit(
        session,
        DisasterModeChanged(
            active, told_hazard, tuple(told_towns), names[0], names[1], row.message_ja,
            row.message_en, row.changed_at.isoformat(),
        ),
    )  # fmt: skip
    return row


def evacuation_lead(session: Session, site_url: str) -> str | None:
    """While disaster mode is on: the lines a message channel puts first (else None)."""
    row = mode_row(session)
    if not row.active:
        return None
    hazard = HAZARDS.get(row.hazard, ("", ""))
    where = "、".join(row.towns) if row.towns else "市内全域"
    lines = [f"【災害モード】{hazard[0]}（{where}）"]
    if row.message_ja:
        lines.append(row.message_ja)
    lines.append(f"開設中の避難所・避難情報 / open shelters: {site_url.rstrip('/')}/disaster")
    return "\n".join(lines)


def mode_history(session: Session, limit: int = 20) -> list[DisasterModeChange]:
    query = select(DisasterModeChange).order_by(DisasterModeChange.id.desc()).limit(limit)
    return list(session.scalars(query))


# --- blocked places ------------------------------------------------------------------------


def add_blocked(
    session: Session, actor: User | None, lat: float, lon: float, radius_m: float, reason: str
) -> BlockedPlace:
    require_manager(actor)
    assert actor is not None
    check_point(lat, lon)
    if not 5 <= radius_m <= 2000:
        raise ValidationProblem(
            "半径は 5〜2000 m です / radius must be 5-2000 m", errors={"radius_m": ["5-2000"]}
        )
    place = BlockedPlace(
        lat=lat,
        lon=lon,
        radius_m=radius_m,
        reason=text.normalize(reason)[:200],
        reported_by=actor.name,
    )
    session.add(place)
    bump_version(session)
    session.flush()
    return place


def clear_blocked(session: Session, actor: User | None, place_id: int) -> None:
    require_manager(actor)
    place = session.get(BlockedPlace, place_id)
    if place is None:
        raise NotFoundProblem("その場所は登録されていません / no such blocked place")
    place.active = False
    bump_version(session)


def list_blocked(session: Session) -> list[BlockedPlace]:
    return list(
        session.scalars(select(BlockedPlace).where(BlockedPlace.active).order_by(BlockedPlace.id))
    )
