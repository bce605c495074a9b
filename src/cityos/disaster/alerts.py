"""Composing alerts: evacuation levels, hazards, target towns; updates and cancellations.

An alert is published at once: saved, rendered as CAP 1.2 and checked against the schema
(an alert that would not validate is refused), announced to the other domains with an
``AlertPublished`` event (notices go out; the static snapshot is rewritten).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core import audit, text
from cityos.core.errors import NotFoundProblem, ValidationProblem
from cityos.core.events import AlertPublished, emit
from cityos.core.models import User
from cityos.db import utcnow
from cityos.disaster import cap
from cityos.disaster.models import Alert
from cityos.disaster.service import (
    HAZARDS,
    bump_version,
    check_hazard,
    check_towns,
    require_manager,
)
from cityos.settings import Settings

MSG_TYPES = ("Alert", "Update", "Cancel")


def _required_text(data: dict[str, Any], key: str, limit: int, errors: dict[str, list[str]]) -> str:
    raw = str(data.get(key) or "")
    # Normalizing drops invisible marks (soft hyphens ...); what only they make is still text.
    value = text.normalize(raw) or raw.strip()
    if not value:
        errors.setdefault(key, []).append("必須です / required")
    elif len(value) > limit:
        errors.setdefault(key, []).append(f"{limit}文字までです / at most {limit} characters")
    return value[:limit]


def _optional_text(data: dict[str, Any], key: str, limit: int) -> str:
    # Line breaks matter in a notice's body: keep them, tidy each line.
    raw = str(data.get(key) or "").replace("\r\n", "\n")
    lines = [text.normalize(line) for line in raw.split("\n")]
    return "\n".join(lines).strip()[:limit]


def _expires(data: dict[str, Any], errors: dict[str, list[str]]) -> dt.datetime | None:
    hours = data.get("expires_in_hours")
    if hours in (None, ""):
        return utcnow() + dt.timedelta(hours=24)
    try:
        value = float(hours)
    except (TypeError, ValueError):
        errors.setdefault("expires_in_hours", []).append("数値です / must be a number")
        return None
    if not 0.5 <= value <= 24 * 14:
        errors.setdefault("expires_in_hours", []).append("0.5〜336 時間です / 0.5-336 hours")
        return None
    return utcnow() + dt.timedelta(hours=value)


def default_headline_en(level: int, hazard: str, towns: list[str]) -> str:
    level_en = cap.LEVELS.get(level, cap.LEVELS[0])[1]
    hazard_en = HAZARDS.get(hazard, (hazard, hazard))[1]
    return f"{level_en} ({hazard_en}): {', '.join(towns)}"


def _validated(data: dict[str, Any], city: str) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    try:
        level = int(data.get("level", 0))
    except (TypeError, ValueError):
        level = -1
    if level not in cap.LEVELS:
        errors["level"] = ["警戒レベルは 0, 3, 4, 5 です / level must be 0, 3, 4 or 5"]
    try:
        hazard = check_hazard(str(data.get("hazard") or "")) or ""
    except ValidationProblem as exc:
        hazard = ""
        errors.update(exc.errors)
    if not hazard and "hazard" not in errors:
        errors["hazard"] = ["災害の種類が必要です / hazard is required"]
    raw_towns = data.get("towns") or []
    if isinstance(raw_towns, str):
        raw_towns = [t for t in raw_towns.replace("、", ",").split(",") if t.strip()]
    towns: list[str] = []
    if not isinstance(raw_towns, list) or not raw_towns:
        errors["towns"] = ["対象の町を1つ以上選んでください / at least one target town is required"]
    else:
        try:
            towns = check_towns(raw_towns, city)
        except ValidationProblem as exc:
            errors.update(exc.errors)
    headline_ja = _required_text(data, "headline_ja", 200, errors)
    text_ja = _required_text(data, "text_ja", 4000, errors) if data.get("text_ja") else ""
    if not text_ja:
        errors.setdefault("text_ja", []).append("必須です / required")
    expires = _expires(data, errors)
    if errors:
        raise ValidationProblem("警報の入力に誤りがあります / invalid alert", errors=errors)
    return {
        "level": level,
        "hazard": hazard,
        "towns": towns,
        "headline_ja": headline_ja,
        "headline_en": text.normalize(str(data.get("headline_en") or ""))[:200]
        or default_headline_en(level, hazard, towns),
        "text_ja": _optional_text(data, "text_ja", 4000),
        "text_en": _optional_text(data, "text_en", 4000),
        "text_easy": _optional_text(data, "text_easy", 4000),
        "expires": expires,
    }


def _identifier(settings: Settings, sent: dt.datetime) -> str:
    local = sent.astimezone(cap.TOKYO)
    return f"JP-{settings.city_code}-{local:%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


def publish(
    session: Session,
    actor: User | None,
    data: dict[str, Any],
    settings: Settings,
    *,
    msg_type: str = "Alert",
    follows: Alert | None = None,
    via: str = "web",
) -> Alert:
    """Publish an alert (or an update or cancellation of ``follows``) as valid CAP."""
    require_manager(actor)
    assert actor is not None
    if msg_type == "Cancel":
        assert follows is not None
        reason = text.normalize(str(data.get("text_ja") or "")) or "解除されました"
        values: dict[str, Any] = {
            "level": follows.level, "hazard": follows.hazard, "towns": list(follows.towns),
            "headline_ja": f"【解除】{follows.headline_ja}"[:200],
            "headline_en": f"Cancelled: {follows.headline_en}"[:200],
            "text_ja": reason[:4000], "text_en": text.normalize(str(data.get("text_en") or ""))[:4000],
            "text_easy": "", "expires": None,
        }  # fmt: skip
    else:
        values = _validated(data, settings.city_name_ja)
    sent = utcnow()
    alert = Alert(
        identifier=_identifier(settings, sent),
        sender=settings.cap_sender,
        sent=sent,
        msg_type=msg_type,
        references=[follows.id] if follows is not None else [],
        created_by=actor.name,
        **values,
    )
    session.add(alert)
    if follows is not None:
        follows.superseded = True
    session.flush()
    xml = render_cap(session, alert, settings)
    problems = cap.validation_errors(xml)
    if problems:
        raise ValidationProblem(
            "CAP 1.2 として正しくない警報になります / the alert would not be valid CAP 1.2",
            errors={"cap": problems[:10]},
        )
    audit.record(
        session,
        actor,
        f"alert.{msg_type.lower()}",
        "alert",
        alert.id,
        summary=alert.headline_ja,
        via=via,
    )
    bump_version(session)
    emit(
        session,
        AlertPublished(
            alert_id=alert.id, identifier=alert.identifier, msg_type=msg_type, level=alert.level,
            hazard=alert.hazard, towns=tuple(alert.towns), headline_ja=alert.headline_ja,
            headline_en=alert.headline_en, text_ja=alert.text_ja, text_en=alert.text_en,
            url=page_url(settings, alert), text_easy=alert.text_easy,
        ),
    )  # fmt: skip
    return alert


def update(
    session: Session, actor: User | None, alert_id: str, data: dict[str, Any], settings: Settings
) -> Alert:
    previous = _current(session, alert_id)
    merged = {
        "level": previous.level, "hazard": previous.hazard, "towns": previous.towns,
        "headline_ja": previous.headline_ja, "headline_en": previous.headline_en,
        "text_ja": previous.text_ja, "text_en": previous.text_en, "text_easy": previous.text_easy,
        **{k: v for k, v in data.items() if v not in (None, "")},
    }  # fmt: skip
    return publish(session, actor, merged, settings, msg_type="Update", follows=previous)


def cancel(
    session: Session, actor: User | None, alert_id: str, data: dict[str, Any], settings: Settings
) -> Alert:
    return publish(
        session, actor, data, settings, msg_type="Cancel", follows=_current(session, alert_id)
    )


def _current(session: Session, alert_id: str) -> Alert:
    alert = get(session, alert_id)
    if alert.superseded or alert.msg_type == "Cancel":
        raise ValidationProblem(
            "この警報はすでに更新または解除されています。最新の版を操作してください / this alert was "
            "already updated or cancelled; act on its latest version",
            status=409,
            errors={"alert": ["superseded"]},
        )
    return alert


def get(session: Session, alert_id: str) -> Alert:
    alert = session.get(Alert, alert_id) if isinstance(alert_id, str) else None
    if alert is None:
        raise NotFoundProblem(f"警報 {alert_id!r} は見つかりません / alert not found")
    return alert


def recent(session: Session, limit: int = 50) -> list[Alert]:
    return list(session.scalars(select(Alert).order_by(Alert.sent.desc(), Alert.id).limit(limit)))


def active(session: Session) -> list[Alert]:
    """Alerts in force: not replaced, not cancellations, not expired."""
    now = utcnow()
    return [
        a
        for a in session.scalars(
            select(Alert)
            .where(~Alert.superseded, Alert.msg_type != "Cancel")
            .order_by(Alert.sent.desc())
        )
        if a.expires is None or a.expires > now
    ]


def page_url(settings: Settings, alert: Alert) -> str:
    return f"{settings.site_url.rstrip('/')}/disaster/alerts/{alert.id}"


def cap_url(settings: Settings, alert: Alert) -> str:
    return f"{settings.site_url.rstrip('/')}/disaster/alerts/{alert.id}.cap.xml"


def render_cap(session: Session, alert: Alert, settings: Settings) -> bytes:
    referenced = [session.get(Alert, ref) for ref in alert.references]
    return cap.to_cap(
        alert,
        referenced=[a for a in referenced if a is not None],
        page_url=page_url(settings, alert),
        city_name=(settings.city_name_ja, settings.city_name_en),
        city_code=settings.city_code,
        hazard_names=HAZARDS,
        town_points=_town_points(settings.city_name_ja, tuple(alert.towns)),
    )


def _town_points(city: str, towns: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    from cityos.address import service as address

    points = {}
    for town in towns:
        place = address.normalize(f"{city}{town}", prefer_city=city)
        if place.lat is not None and place.lon is not None and place.town:
            points[town] = (place.lat, place.lon)
    return points


def atom(session: Session, settings: Settings) -> bytes:
    site = settings.site_url.rstrip("/")
    return cap.atom_feed(
        recent(session),
        feed_url=f"{site}/disaster/alerts.atom",
        site_url=f"{site}/disaster",
        title=(f"{settings.city_name_ja} 避難情報・警報", f"{settings.city_name_en} alerts"),
        page_url=lambda a: page_url(settings, a),
        cap_url=lambda a: cap_url(settings, a),
    )
