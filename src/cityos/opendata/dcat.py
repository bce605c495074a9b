"""DCAT-AP 2 descriptions of the catalog and of each dataset, as JSON-LD with an inline context."""

from __future__ import annotations

from typing import Any

from cityos.opendata import standards
from cityos.opendata.models import Dataset, Resource
from cityos.opendata.service import LICENSES

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "locn": "http://www.w3.org/ns/locn#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
}

_EU = "http://publications.europa.eu/resource/authority"
FREQUENCY_URIS = {
    "continuous": f"{_EU}/frequency/CONT",
    "daily": f"{_EU}/frequency/DAILY",
    "weekly": f"{_EU}/frequency/WEEKLY",
    "monthly": f"{_EU}/frequency/MONTHLY",
    "quarterly": f"{_EU}/frequency/QUARTERLY",
    "annual": f"{_EU}/frequency/ANNUAL",
    "irregular": f"{_EU}/frequency/IRREG",
    "never": f"{_EU}/frequency/NEVER",
}
MEDIA_TYPES = {
    "CSV": "text/csv",
    "TSV": "text/tab-separated-values",
    "GEOJSON": "application/geo+json",
    "JSON": "application/json",
}


def _texts(ja: str, en: str) -> list[dict[str, str]]:
    values = [{"@value": ja, "@language": "ja"}] if ja else []
    if en:
        values.append({"@value": en, "@language": "en"})
    return values


def _datetime(value: Any) -> dict[str, str]:
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


def _distribution(site: str, dataset: Dataset, resource: Resource) -> list[dict[str, Any]]:
    license_url = LICENSES.get(dataset.license_id, ("", ""))[1]
    base_id = f"{site}/dataset/{dataset.name}/resource/{resource.id}"
    fmt = resource.format.upper()
    node: dict[str, Any] = {
        "@id": base_id,
        "@type": "dcat:Distribution",
        "dct:title": _texts(resource.name, resource.name_en),
        "dct:description": _texts(resource.description, ""),
        "dct:format": resource.format,
        "dct:modified": _datetime(resource.modified_at),
        "dcat:accessURL": {"@id": f"{site}/dataset/{dataset.name}"},
    }
    if resource.url:
        node["dcat:downloadURL"] = {"@id": resource.url}
    if fmt in MEDIA_TYPES:
        node["dcat:mediaType"] = {
            "@id": f"https://www.iana.org/assignments/media-types/{MEDIA_TYPES[fmt]}"
        }
    if resource.size is not None:
        node["dcat:byteSize"] = {"@value": str(resource.size), "@type": "xsd:nonNegativeInteger"}
    if license_url:
        node["dct:license"] = {"@id": license_url}
    nodes = [node]
    if resource.datastore_active:
        dumps = [("csv", "CSV"), ("json", "JSON")]
        if resource.lat_field:
            dumps.append(("geojson", "GEOJSON"))
        for key, label in dumps:
            nodes.append(
                {
                    "@id": f"{base_id}#{key}",
                    "@type": "dcat:Distribution",
                    "dct:title": _texts(
                        f"{resource.name}（{label}）",
                        f"{resource.name_en or resource.name} ({label})",
                    ),
                    "dct:format": label,
                    "dcat:mediaType": {
                        "@id": f"https://www.iana.org/assignments/media-types/{MEDIA_TYPES[label]}"
                    },
                    "dcat:accessURL": {"@id": f"{site}/dataset/{dataset.name}"},
                    "dcat:downloadURL": {
                        "@id": f"{site}/datastore/dump/{resource.id}?format={key}"
                    },
                    **({"dct:license": {"@id": license_url}} if license_url else {}),
                }
            )
    return nodes


def dataset_node(site: str, dataset: Dataset) -> dict[str, Any]:
    org = dataset.organization
    license_url = LICENSES.get(dataset.license_id, ("", ""))[1]
    node: dict[str, Any] = {
        "@id": f"{site}/dataset/{dataset.name}",
        "@type": "dcat:Dataset",
        "dct:identifier": dataset.id,
        "dct:title": _texts(dataset.title, dataset.title_en),
        "dct:description": _texts(dataset.notes, dataset.notes_en),
        "dct:issued": _datetime(dataset.created_at),
        "dct:modified": _datetime(dataset.modified_at),
        "dcat:landingPage": {"@id": f"{site}/dataset/{dataset.name}"},
        "dcat:keyword": [{"@value": t.name, "@language": "ja"} for t in dataset.tags],
        "dcat:theme": [
            {"@id": f"{site}/group/{g.name}", "skos:prefLabel": _texts(g.title, g.title_en)}
            for g in dataset.groups
        ],
        "dcat:distribution": [
            node for r in dataset.resources for node in _distribution(site, dataset, r)
        ],
    }
    if org:
        node["dct:publisher"] = {
            "@id": f"{site}/organization/{org.name}",
            "@type": "foaf:Organization",
            "foaf:name": _texts(org.title, org.title_en),
        }
    if license_url:
        node["dct:license"] = {"@id": license_url}
    if dataset.frequency in FREQUENCY_URIS:
        node["dct:accrualPeriodicity"] = {"@id": FREQUENCY_URIS[dataset.frequency]}
    if dataset.spatial:
        node["dct:spatial"] = {"@type": "dct:Location", "locn:geographicName": dataset.spatial}
    if dataset.temporal_start or dataset.temporal_end:
        period: dict[str, Any] = {"@type": "dct:PeriodOfTime"}
        if dataset.temporal_start:
            period["dcat:startDate"] = {"@value": dataset.temporal_start, "@type": "xsd:date"}
        if dataset.temporal_end:
            period["dcat:endDate"] = {"@value": dataset.temporal_end, "@type": "xsd:date"}
        node["dct:temporal"] = period
    schema = standards.get_schema(dataset.schema_id)
    if schema:
        node["dct:conformsTo"] = {
            "@id": f"{site}/standards/{schema.id}",
            "dct:title": _texts(f"自治体標準オープンデータセット {schema.title}", schema.title_en),
        }
    if dataset.maintainer or dataset.maintainer_email:
        contact: dict[str, Any] = {
            "@type": "vcard:Organization",
            "vcard:fn": dataset.maintainer or (org.title if org else ""),
        }
        if dataset.maintainer_email:
            contact["vcard:hasEmail"] = {"@id": f"mailto:{dataset.maintainer_email}"}
        node["dcat:contactPoint"] = contact
    if dataset.version:
        node["dcat:version"] = dataset.version
    return node


def dataset_document(site: str, dataset: Dataset) -> dict[str, Any]:
    return {"@context": CONTEXT, **dataset_node(site, dataset)}


def catalog_document(
    site: str, city_ja: str, city_en: str, datasets: list[Dataset]
) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@id": f"{site}/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": _texts(f"{city_ja}オープンデータカタログ", f"{city_en} Open Data Catalog"),
        "dct:description": _texts(
            f"{city_ja}が公開するオープンデータの一覧（自治体標準オープンデータセット準拠）",
            f"Open data published by {city_en}, in the national standard formats",
        ),
        "dct:publisher": {
            "@id": f"{site}/#publisher",
            "@type": "foaf:Organization",
            "foaf:name": _texts(city_ja, city_en),
        },
        "dct:language": [{"@id": f"{_EU}/language/JPN"}, {"@id": f"{_EU}/language/ENG"}],
        "foaf:homepage": {"@id": f"{site}/"},
        "dcat:dataset": [dataset_node(site, d) for d in datasets],
    }
