"""Open311 GeoReport v2 documents: services, definitions, requests, errors, in JSON and XML.

The same plain structure (dicts, lists, strings, numbers, booleans, None) is written as JSON
or as XML; XML is built with ``xml.etree`` (every text escaped) and its element names follow
the specification (``<services><service>``, ``<service_requests><request>``, ``<errors>``).
Reporters' contact details are never part of any document here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

import orjson

from cityos.core.text import TOKYO
from cityos.reports.models import STATES, ReportService, ServiceRequest
from cityos.reports.service import service_notice, sorted_attributes

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
JSON_MEDIA = "application/json; charset=utf-8"
XML_MEDIA = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")
# What each list's items are called in XML.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}


def local_time(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 in Japan time (2026-09-14T10:00:00+09:00)."""
    return value.astimezone(TOKYO).isoformat(timespec="seconds") if value else None


def _pick(lang: str, ja: str, en: str) -> str:
    return en if lang == "en" and en else ja


def service_entry(service: ReportService, lang: str) -> dict[str, Any]:
    return {
        "service_code": service.code,
        "service_name": _pick(lang, service.name_ja, service.name_en),
        "description": _pick(lang, service.description_ja, service.description_en),
        "metadata": bool(service.attributes),
        "type": "realtime",
        "keywords": ", ".join(str(k) for k in service.keywords),
        "group": _pick(lang, service.group_ja, service.group_en),
    }


def service_definition(service: ReportService, lang: str) -> dict[str, Any]:
    return {
        "service_code": service.code,
        "attributes": [
            {
                "variable": True,
                "code": attribute["code"],
                "datatype": attribute["datatype"],
                "required": bool(attribute.get("required")),
                "datatype_description": _pick(
                    lang,
                    attribute.get("datatype_description_ja", ""),
                    attribute.get("datatype_description_en", ""),
                )
                or None,
                "order": int(attribute.get("order", 0)),
                "description": _pick(
                    lang, attribute.get("description_ja", ""), attribute.get("description_en", "")
                ),
                "values": [
                    {"key": value["key"], "name": _pick(lang, value["name_ja"], value["name_en"])}
                    for value in attribute.get("values", [])
                ],
            }
            for attribute in sorted_attributes(service)
        ],
    }


def request_entry(
    request: ServiceRequest | Any,
    lang: str,
    city: str,
    names: Mapping[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """One request as GET requests answers it: public fields only. ``request`` is a
    ServiceRequest, or a row of ``service.PUBLIC_COLUMNS`` with the services' ``names``."""
    name_ja, name_en = (
        names[request.service_code]
        if names is not None
        else (request.service.name_ja, request.service.name_en)
    )
    state_ja, state_en, _status = STATES[request.state]
    address = request.address_string or (f"{city}{request.town}" if request.town else None)
    return {
        "service_request_id": str(request.id),
        "status": request.status,
        "status_notes": request.status_notes or None,
        "service_name": _pick(lang, name_ja, name_en),
        "service_code": request.service_code,
        "description": request.description or None,
        "agency_responsible": _pick(lang, request.department_ja, request.department_en),
        "service_notice": _pick(lang, state_ja, state_en),
        "requested_datetime": local_time(request.requested_at),
        "updated_datetime": local_time(request.updated_at),
        "expected_datetime": local_time(request.expected_at),
        "address": address,
        "address_id": request.address_id or None,
        "zipcode": None,
        "lat": request.lat,
        "long": request.lon,
        "media_url": request.media_url or None,
    }


def created_entry(request: ServiceRequest) -> dict[str, Any]:
    """The answer to POST requests: the new id, its token, the city's notice."""
    return {
        "service_request_id": str(request.id),
        "token": request.token,
        "service_notice": service_notice(request),
        "account_id": request.account_id or None,
    }


def token_entry(request: ServiceRequest) -> dict[str, Any]:
    return {"service_request_id": str(request.id), "token": request.token}


def error_entries(status: int, descriptions: Sequence[str]) -> list[dict[str, Any]]:
    return [{"code": status, "description": description} for description in descriptions]


# --- writing -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        item = ITEM_NAMES.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item), child)
    else:
        element.text = _text(value)


def to_xml(root: str, document: Any) -> bytes:
    """``document`` as XML under ``root``, with the declaration the specification asks for."""
    element = ET.Element(root)
    _fill(element, document)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(
        element, encoding="unicode"
    ).encode("utf-8")


def to_json(document: Any) -> bytes:
    return orjson.dumps(document)


def render(fmt: str, root: str, document: Any) -> tuple[bytes, str]:
    """The body and media type of ``document`` in ``fmt`` (json or xml)."""
    if fmt == "xml":
        return to_xml(root, document), XML_MEDIA
    return to_json(document), JSON_MEDIA
