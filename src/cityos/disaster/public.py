"""Public disaster information as documents: the same JSON for the API and the snapshot."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.db import utcnow
from cityos.disaster import alerts, cap, service
from cityos.disaster.models import Alert, Shelter
from cityos.settings import Settings


def shelter_dict(shelter: Shelter) -> dict[str, Any]:
    status = shelter.status
    crowding = service.crowding(shelter)
    return {
        "id": shelter.id,
        "name": shelter.name,
        "address": shelter.address,
        "town": shelter.town,
        "lat": shelter.lat,
        "lon": shelter.lon,
        "kind": {"shelter": shelter.is_shelter, "emergency_site": shelter.is_emergency_site},
        "hazards": list(shelter.hazards or []),
        "accepts": shelter.accepts or None,
        "open": bool(status and status.is_open),
        "crowding": crowding,
        "crowding_label": {
            "ja": service.CROWDING[crowding][0],
            "en": service.CROWDING[crowding][1],
        },
        "people": status.people if status and status.is_open else None,
        "capacity": (status.capacity if status and status.capacity else shelter.capacity),
        "services": {flag: bool(status and getattr(status, flag)) for flag in service.STATUS_FLAGS},
        "supplies_short": (status.supplies_short or None) if status else None,
        "notes": (status.notes or None) if status else None,
        "updated_at": status.updated_at.isoformat() if status else None,
    }


def alert_dict(alert: Alert, settings: Settings) -> dict[str, Any]:
    level_ja, level_en = cap.LEVELS.get(alert.level, cap.LEVELS[0])
    hazard_ja, hazard_en = service.HAZARDS.get(alert.hazard, (alert.hazard, alert.hazard))
    return {
        "id": alert.id,
        "identifier": alert.identifier,
        "msg_type": alert.msg_type,
        "sent": cap.cap_time(alert.sent),
        "expires": cap.cap_time(alert.expires) if alert.expires else None,
        "level": alert.level,
        "level_label": {"ja": level_ja, "en": level_en},
        "hazard": alert.hazard,
        "hazard_label": {"ja": hazard_ja, "en": hazard_en},
        "towns": list(alert.towns),
        "headline": {"ja": alert.headline_ja, "en": alert.headline_en},
        "text": {
            "ja": alert.text_ja,
            "en": alert.text_en or None,
            "easy_ja": alert.text_easy or None,
        },
        "superseded": alert.superseded,
        "references": list(alert.references),
        "url": alerts.page_url(settings, alert),
        "cap": alerts.cap_url(settings, alert),
    }


def mode_dict(session: Session) -> dict[str, Any]:
    row = service.mode_row(session)
    hazard = service.HAZARDS.get(row.hazard, ("", ""))
    return {
        "active": row.active,
        "hazard": row.hazard or None,
        "hazard_label": {"ja": hazard[0], "en": hazard[1]} if row.active else None,
        "towns": list(row.towns),
        "message": {"ja": row.message_ja or None, "en": row.message_en or None},
        "since": row.changed_at.isoformat() if row.active else None,
    }


def status_document(session: Session, settings: Settings) -> dict[str, Any]:
    """What a resident's app needs first: mode, alerts in force, open shelters."""
    open_shelters = service.list_shelters(session, open_only=True)
    return {
        "city": {
            "ja": settings.city_name_ja,
            "en": settings.city_name_en,
            "code": settings.city_code,
        },
        "generated_at": utcnow().isoformat(),
        "version": service.current_version(session),
        "disaster_mode": mode_dict(session),
        "active_alerts": [alert_dict(a, settings) for a in alerts.active(session)],
        "open_shelters": [shelter_dict(s) for s in open_shelters],
        "open_shelter_count": len(open_shelters),
    }


def shelters_document(session: Session) -> dict[str, Any]:
    return {
        "generated_at": utcnow().isoformat(),
        "shelters": [shelter_dict(s) for s in service.list_shelters(session)],
    }


def shelters_geojson(session: Session) -> dict[str, Any]:
    features = []
    for shelter in service.list_shelters(session):
        if shelter.lat is None or shelter.lon is None:
            continue
        properties = shelter_dict(shelter)
        properties.pop("lat")
        properties.pop("lon")
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [shelter.lon, shelter.lat]},
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "features": features}
