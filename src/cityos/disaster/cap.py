"""Alerts in OASIS CAP 1.2 (validated against the schema) and as an Atom feed."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from cityos.core import text
from cityos.disaster.models import Alert

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
TOKYO = text.TOKYO

LEVELS: dict[int, tuple[str, str]] = {
    0: ("お知らせ", "Notice"),
    3: ("高齢者等避難", "Evacuate if elderly or in need of help"),
    4: ("避難指示", "Evacuation order"),
    5: ("緊急安全確保", "Emergency: secure your safety now"),
}
# CAP's urgency, severity, certainty and response for each evacuation level.
_CAP_LEVEL = {
    0: ("Expected", "Minor", "Possible", "Monitor"),
    3: ("Expected", "Moderate", "Likely", "Prepare"),
    4: ("Immediate", "Severe", "Likely", "Evacuate"),
    5: ("Immediate", "Extreme", "Observed", "Shelter"),
}
_CATEGORY = {
    "flood": "Met", "inland_flood": "Met", "storm_surge": "Met", "landslide": "Geo",
    "earthquake": "Geo", "tsunami": "Geo", "volcano": "Geo", "fire": "Fire",
}  # fmt: skip


def cap_time(value: dt.datetime) -> str:
    """CAP's dateTime: seconds, an explicit offset, Japan time ("2026-11-26T09:00:00+09:00")."""
    return value.astimezone(TOKYO).replace(microsecond=0).isoformat()


def reference(alert: Alert) -> str:
    return f"{alert.sender},{alert.identifier},{cap_time(alert.sent)}"


def _sub(parent: ET.Element, tag: str, value: str | None) -> ET.Element | None:
    if value is None or value == "":
        return None
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    element.text = value
    return element


def to_cap(
    alert: Alert,
    *,
    referenced: Sequence[Alert],
    page_url: str,
    city_name: tuple[str, str],
    city_code: str,
    hazard_names: dict[str, tuple[str, str]],
    town_points: dict[str, tuple[float, float]],
) -> bytes:
    """The alert as CAP 1.2 XML: one <info> in Japanese and one in English."""
    ET.register_namespace("", CAP_NS)
    root = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(root, "identifier", alert.identifier)
    _sub(root, "sender", alert.sender)
    _sub(root, "sent", cap_time(alert.sent))
    _sub(root, "status", alert.status)
    _sub(root, "msgType", alert.msg_type)
    _sub(root, "scope", "Public")
    if alert.msg_type == "Cancel":
        _sub(root, "note", alert.text_ja[:1000])
    if referenced:
        _sub(root, "references", " ".join(reference(a) for a in referenced))
    urgency, severity, certainty, response = _CAP_LEVEL.get(alert.level, _CAP_LEVEL[0])
    hazard_ja, hazard_en = hazard_names.get(alert.hazard, (alert.hazard, alert.hazard))
    level_ja, level_en = LEVELS.get(alert.level, LEVELS[0])
    for language, event, headline, description, city in (
        ("ja-JP", f"{level_ja}（{hazard_ja}）", alert.headline_ja, alert.text_ja, city_name[0]),
        (
            "en-US",
            f"{level_en} ({hazard_en})",
            alert.headline_en,
            alert.text_en or alert.text_ja,
            city_name[1],
        ),
    ):
        info = ET.SubElement(root, f"{{{CAP_NS}}}info")
        _sub(info, "language", language)
        _sub(info, "category", _CATEGORY.get(alert.hazard, "Safety"))
        _sub(info, "event", event)
        if alert.msg_type != "Cancel":
            _sub(info, "responseType", response)
        else:
            _sub(info, "responseType", "AllClear")
        _sub(info, "urgency", urgency if alert.msg_type != "Cancel" else "Past")
        _sub(info, "severity", severity if alert.msg_type != "Cancel" else "Minor")
        _sub(info, "certainty", certainty if alert.msg_type != "Cancel" else "Observed")
        if alert.expires is not None:
            _sub(info, "expires", cap_time(alert.expires))
        _sub(info, "senderName", city)
        _sub(info, "headline", headline or alert.headline_ja)
        _sub(info, "description", description)
        _sub(info, "web", page_url)
        area = ET.SubElement(info, f"{{{CAP_NS}}}area")
        _sub(
            area,
            "areaDesc",
            f"{city} "
            + ("、".join(alert.towns) if language == "ja-JP" else ", ".join(alert.towns)),
        )
        for town in alert.towns:
            point = town_points.get(town)
            if point is not None:
                _sub(area, "circle", f"{point[0]:.6f},{point[1]:.6f} 0.8")
        geocode = ET.SubElement(area, f"{{{CAP_NS}}}geocode")
        _sub(geocode, "valueName", "JIS X 0402")
        _sub(geocode, "value", city_code[:5])
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


@cache
def _schema() -> Any:
    import xmlschema

    path = resources.files("cityos.disaster") / "data" / "CAP-v1.2.xsd"
    return xmlschema.XMLSchema(str(path))


def validation_errors(xml: bytes) -> list[str]:
    """What makes this document invalid CAP 1.2 (empty when it is valid)."""
    import xmlschema

    schema = _schema()
    try:
        return [str(error.reason or error) for error in schema.iter_errors(xml.decode("utf-8"))]
    except xmlschema.XMLSchemaException as exc:  # not even well-formed
        return [str(exc)]


def atom_feed(
    alerts: Sequence[Alert],
    *,
    feed_url: str,
    site_url: str,
    title: tuple[str, str],
    page_url: Any,
    cap_url: Any,
) -> bytes:
    """The alerts, newest first, as an Atom feed linking each entry's CAP document."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "ja")

    def sub(parent: ET.Element, tag: str, value: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if value is not None:
            element.text = value
        return element

    sub(feed, "id", feed_url)
    sub(feed, "title", f"{title[0]} / {title[1]}")
    updated = max((a.sent for a in alerts), default=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    sub(feed, "updated", cap_time(updated))
    sub(feed, "link", rel="self", href=feed_url, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=site_url, type="text/html")
    author = sub(feed, "author")
    sub(author, "name", title[0])
    for alert in alerts:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:cap:{alert.sender}:{alert.identifier}")
        label = {"Alert": "", "Update": "【更新】", "Cancel": "【解除】"}.get(alert.msg_type, "")
        sub(entry, "title", f"{label}{alert.headline_ja}")
        sub(entry, "updated", cap_time(alert.sent))
        sub(entry, "published", cap_time(alert.sent))
        sub(entry, "link", rel="alternate", href=page_url(alert), type="text/html")
        sub(entry, "link", rel="related", href=cap_url(alert), type="application/cap+xml")
        sub(entry, "category", term=f"level-{alert.level}")
        sub(entry, "category", term=alert.hazard)
        summary = alert.text_ja if not alert.text_en else f"{alert.text_ja}\n\n{alert.text_en}"
        sub(entry, "summary", summary)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))
