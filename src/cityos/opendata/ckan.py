"""Catalog objects in the shapes of CKAN's Action API v3, so existing CKAN clients just work."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cityos.opendata import standards
from cityos.opendata.models import Dataset, Group, Organization, Resource, ResourceVersion, Tag
from cityos.opendata.service import FREQUENCIES, LICENSES


def iso(value: dt.datetime | None) -> str | None:
    """CKAN writes naive UTC timestamps with microseconds."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def organization_dict(org: Organization, package_count: int | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": org.id,
        "name": org.name,
        "title": org.title,
        "display_name": org.title,
        "title_translated": {"ja": org.title, "en": org.title_en or org.title},
        "description": org.description,
        "description_translated": {"ja": org.description, "en": org.description_en},
        "image_url": org.image_url,
        "image_display_url": org.image_url,
        "created": iso(org.created_at),
        "is_organization": True,
        "type": "organization",
        "state": org.state,
        "approval_status": "approved",
    }
    if package_count is not None:
        result["package_count"] = package_count
    return result


def group_dict(group: Group, package_count: int | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": group.id,
        "name": group.name,
        "title": group.title,
        "display_name": group.title,
        "title_translated": {"ja": group.title, "en": group.title_en or group.title},
        "description": group.description,
        "image_url": group.image_url,
        "image_display_url": group.image_url,
        "created": iso(group.created_at),
        "is_organization": False,
        "type": "group",
        "state": group.state,
    }
    if package_count is not None:
        result["package_count"] = package_count
    return result


def tag_dict(tag: Tag) -> dict[str, Any]:
    return {
        "id": str(tag.id),
        "name": tag.name,
        "display_name": tag.name,
        "state": "active",
        "vocabulary_id": None,
    }


def resource_dict(resource: Resource, dataset: Dataset | None = None) -> dict[str, Any]:
    latest: ResourceVersion | None = resource.versions[-1] if resource.versions else None
    return {
        "id": resource.id,
        "package_id": resource.dataset_id,
        "position": resource.position,
        "name": resource.name,
        "name_translated": {"ja": resource.name, "en": resource.name_en or resource.name},
        "description": resource.description,
        "format": resource.format,
        "url": resource.url,
        "url_type": resource.url_type or None,
        "mimetype": resource.mimetype or None,
        "size": resource.size,
        "hash": resource.hash,
        "created": iso(resource.created_at),
        "last_modified": iso(resource.modified_at),
        "metadata_modified": iso(resource.modified_at),
        "datastore_active": resource.datastore_active,
        "datastore_rows": resource.row_count if resource.datastore_active else None,
        "state": "active",
        "version": latest.number if latest else None,
        "validation_status": _validation_status(latest),
        "has_coordinates": bool(resource.lat_field),
    }


def _validation_status(version: ResourceVersion | None) -> str | None:
    if version is None or not version.report:
        return None
    return "success" if version.rows_invalid == 0 else "partial"


def package_dict(dataset: Dataset) -> dict[str, Any]:
    org = dataset.organization
    license_title, license_url = LICENSES.get(dataset.license_id, (dataset.license_id, ""))
    schema = standards.get_schema(dataset.schema_id)
    extras = [{"key": k, "value": v} for k, v in sorted(dataset.extras.items())]
    return {
        "id": dataset.id,
        "name": dataset.name,
        "title": dataset.title,
        "title_translated": {"ja": dataset.title, "en": dataset.title_en or dataset.title},
        "notes": dataset.notes,
        "notes_translated": {"ja": dataset.notes, "en": dataset.notes_en or dataset.notes},
        "type": "dataset",
        "state": dataset.state,
        "private": dataset.private,
        "owner_org": dataset.owner_org,
        "organization": organization_dict(org) if org else None,
        "license_id": dataset.license_id,
        "license_title": license_title,
        "license_url": license_url,
        "isopen": dataset.license_id != "other-closed",
        "author": dataset.author,
        "author_email": dataset.author_email,
        "maintainer": dataset.maintainer,
        "maintainer_email": dataset.maintainer_email,
        "url": dataset.url,
        "version": dataset.version,
        "frequency": dataset.frequency,
        "frequency_label": FREQUENCIES.get(dataset.frequency, ("", ""))[0],
        "spatial": dataset.spatial,
        "temporal_start": dataset.temporal_start or None,
        "temporal_end": dataset.temporal_end or None,
        "schema": dataset.schema_id or None,
        "schema_title": schema.title if schema else None,
        "metadata_created": iso(dataset.created_at),
        "metadata_modified": iso(dataset.modified_at),
        "tags": [tag_dict(t) for t in dataset.tags],
        "num_tags": len(dataset.tags),
        "groups": [group_dict(g) for g in dataset.groups],
        "resources": [resource_dict(r) for r in dataset.resources],
        "num_resources": len(dataset.resources),
        "extras": extras,
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }
