"""The open data catalog: organizations, groups, datasets, resources, uploads and search.

Everything the CKAN API, the pages and the CLI do goes through these functions. Inputs are
plain dicts in CKAN's shapes (so that API bodies, form posts and CLI options share one
validation); outputs are model objects, serialized by ``ckan.py`` and ``dcat.py``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from cityos.core import audit, text
from cityos.core.auth import can
from cityos.core.errors import (
    ForbiddenProblem,
    NotFoundProblem,
    ValidationProblem,
)
from cityos.core.events import ResourceDataChanged, emit
from cityos.core.models import User
from cityos.core.uploads import FileStore
from cityos.db import utcnow
from cityos.opendata import addresses, datastore, ingest, standards
from cityos.opendata.datastore import Field
from cityos.opendata.models import (
    Dataset,
    DatastoreField,
    Group,
    Organization,
    Resource,
    ResourceVersion,
    Tag,
)

NAME_PATTERN = re.compile(r"^[a-z0-9_-]{2,100}$")

LICENSES: dict[str, tuple[str, str]] = {
    "CC-BY-4.0": (
        "クリエイティブ・コモンズ 表示 4.0 国際 (CC BY 4.0)",
        "https://creativecommons.org/licenses/by/4.0/deed.ja",
    ),
    "CC-BY-SA-4.0": (
        "クリエイティブ・コモンズ 表示-継承 4.0 国際 (CC BY-SA 4.0)",
        "https://creativecommons.org/licenses/by-sa/4.0/deed.ja",
    ),
    "CC0-1.0": (
        "CC0 1.0 パブリック・ドメイン提供",
        "https://creativecommons.org/publicdomain/zero/1.0/deed.ja",
    ),
    "PDL-1.0": (
        "公共データ利用規約（第1.0版） (PDL 1.0)",
        "https://www.digital.go.jp/resources/open_data/public_data_license_v1.0",
    ),
    "ODbL-1.0": ("Open Database License 1.0", "https://opendatacommons.org/licenses/odbl/1-0/"),
    "other-open": ("その他（オープン） / Other (open)", ""),
}

FREQUENCIES: dict[str, tuple[str, str]] = {
    "": ("未設定", "Not set"),
    "continuous": ("随時", "Continuously"),
    "daily": ("毎日", "Daily"),
    "weekly": ("毎週", "Weekly"),
    "monthly": ("毎月", "Monthly"),
    "quarterly": ("四半期ごと", "Quarterly"),
    "annual": ("毎年", "Annually"),
    "irregular": ("不定期", "Irregularly"),
    "never": ("更新なし", "Never"),
}

UPLOAD_FORMATS = {
    ".csv": "CSV",
    ".tsv": "TSV",
    ".txt": "CSV",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
}
TABLE_FORMATS = {"CSV", "TSV", "GEOJSON"}


# --- validation helpers --------------------------------------------------------------------


class _Errors:
    """Collects field errors so that one answer names every problem at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    def raise_if_any(self, summary: str) -> None:
        if self.errors:
            raise ValidationProblem(summary, errors=self.errors)


def _text(data: dict[str, Any], key: str, limit: int, errors: _Errors, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        errors.add(key, "文字列で指定してください / must be a string")
        return default
    value = str(value).strip()
    if "\x00" in value:
        errors.add(key, "NUL 文字は使えません / must not contain NUL")
        return default
    if len(value) > limit:
        errors.add(key, f"{limit}文字以内にしてください / at most {limit} characters")
        return value[:limit]
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on", "t")


def _check_name(name: str, errors: _Errors, key: str = "name") -> None:
    if not NAME_PATTERN.match(name):
        errors.add(
            key,
            "URL名は半角英小文字・数字・-・_ の2〜100文字です / "
            "must be 2-100 lowercase alphanumeric characters, - or _",
        )


def slugify(title: str) -> str:
    ascii_part = unicodedata.normalize("NFKC", title).lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_part).strip("-")
    return slug[:80] if len(slug) >= 2 else ""


def _check_date(value: str, key: str, errors: _Errors) -> str:
    if not value:
        return ""
    try:
        return text.parse_date(value).isoformat()
    except ValueError:
        errors.add(key, f"日付として読めません / not a date: {value!r}")
        return ""


# --- organizations and groups --------------------------------------------------------------


# Organizations (departments) and groups (themes) have the same shape and the same rules.
_PublisherT = TypeVar("_PublisherT", Organization, Group)
_LABELS = {Organization: ("組織", "organization"), Group: ("グループ", "group")}


def _list_active(session: Session, model: type[_PublisherT]) -> list[_PublisherT]:
    return list(session.scalars(select(model).where(model.state == "active").order_by(model.name)))


def _get_active(session: Session, model: type[_PublisherT], id_or_name: str) -> _PublisherT:
    found = session.scalar(
        select(model).where(
            or_(model.id == id_or_name, model.name == id_or_name), model.state == "active"
        )
    )
    if found is None:
        ja, en = _LABELS[model]
        raise NotFoundProblem(
            f"{ja} {id_or_name!r} は見つかりません / {en} {id_or_name!r} not found"
        )
    return found


def _create_active(
    session: Session, actor: User | None, model: type[_PublisherT], data: dict[str, Any]
) -> _PublisherT:
    ja, en = _LABELS[model]
    errors = _Errors()
    values = {
        "name": _text(data, "name", 100, errors),
        "title": _text(data, "title", 200, errors),
        "title_en": _text(data, "title_en", 200, errors),
        "description": _text(data, "description", 5000, errors),
        "description_en": _text(data, "description_en", 5000, errors),
        "image_url": _text(data, "image_url", 500, errors),
    }
    _check_name(values["name"], errors)
    if session.scalar(select(model.id).where(model.name == values["name"])):
        errors.add("name", "Group name already exists in database / この名前は既に使われています")
    errors.raise_if_any(f"{ja}の入力に誤りがあります / invalid {en}")
    created = model(**{**values, "title": values["title"] or values["name"]})
    session.add(created)
    session.flush()
    audit.record(session, actor, f"{en}.create", en, created.id, summary=created.title)
    return created


def list_organizations(session: Session) -> list[Organization]:
    return _list_active(session, Organization)


def get_organization(session: Session, id_or_name: str) -> Organization:
    return _get_active(session, Organization, id_or_name)


def create_organization(session: Session, actor: User | None, data: dict[str, Any]) -> Organization:
    return _create_active(session, actor, Organization, data)


def list_groups(session: Session) -> list[Group]:
    return _list_active(session, Group)


def get_group(session: Session, id_or_name: str) -> Group:
    return _get_active(session, Group, id_or_name)


def create_group(session: Session, actor: User | None, data: dict[str, Any]) -> Group:
    return _create_active(session, actor, Group, data)


# --- datasets ------------------------------------------------------------------------------


def dataset_query() -> Select[Dataset]:
    return select(Dataset).options(
        selectinload(Dataset.organization),
        selectinload(Dataset.tags),
        selectinload(Dataset.groups),
        selectinload(Dataset.resources).selectinload(Resource.fields),
        selectinload(Dataset.resources).selectinload(Resource.versions),
    )


def get_dataset(session: Session, id_or_name: str, viewer: User | None) -> Dataset:
    """The dataset, if it exists and ``viewer`` may see it (else 404, as CKAN hides it)."""
    if not isinstance(id_or_name, str) or not id_or_name:
        raise ValidationProblem(
            "id を指定してください / id is required", errors={"id": ["Missing value"]}
        )
    dataset = session.scalar(
        dataset_query().where(or_(Dataset.id == id_or_name, Dataset.name == id_or_name))
    )
    if dataset is None or not _visible(dataset, viewer):
        raise NotFoundProblem(
            f"データセット {id_or_name!r} は見つかりません / dataset {id_or_name!r} not found"
        )
    return dataset


def _visible(dataset: Dataset, viewer: User | None) -> bool:
    if dataset.state != "active" or dataset.private:
        return can(viewer, "catalog.read_private")
    return True


def _require_write(actor: User | None) -> None:
    if actor is None:
        raise ForbiddenProblem(
            "この操作には職員のAPIトークンかログインが必要です / an API token or staff login is required"
        )
    if not can(actor, "catalog.write"):
        raise ForbiddenProblem(
            f"{actor.name} にはカタログを変更する権限がありません / {actor.name} may not change the catalog"
        )


def _resolve_tags(session: Session, raw: Any, errors: _Errors) -> list[Tag]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else str(raw).split(",")
    names: list[str] = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str):
            errors.add("tags", "タグは文字列です / tags are strings")
            continue
        name = text.normalize(name)
        if not name:
            continue
        if len(name) > 100 or any(c in name for c in "<>\"'"):
            errors.add("tags", f"タグ {name!r} は使えません / tag {name!r} is not allowed")
            continue
        if name not in names:
            names.append(name)
    tags: list[Tag] = []
    for name in names:
        tag = session.scalar(select(Tag).where(Tag.name == name))
        if tag is None:
            tag = Tag(name=name)
            session.add(tag)
        tags.append(tag)
    return tags


def _resolve_groups(session: Session, raw: Any, errors: _Errors) -> list[Group]:
    if not raw:
        return []
    items = raw if isinstance(raw, list) else str(raw).split(",")
    groups: list[Group] = []
    for item in items:
        key = (item.get("name") or item.get("id")) if isinstance(item, dict) else item
        if not isinstance(key, str):
            errors.add("groups", "グループ名は文字列です / group names are strings")
            continue
        group = session.scalar(
            select(Group).where(or_(Group.name == key.strip(), Group.id == key.strip()))
        )
        if group is None:
            errors.add("groups", f"グループ {key!r} はありません / group {key!r} does not exist")
        elif group not in groups:
            groups.append(group)
    return groups


def _dataset_values(
    session: Session, data: dict[str, Any], errors: _Errors, current: Dataset | None
) -> dict[str, Any]:
    def pick(key: str, limit: int) -> str:
        default = getattr(current, key, "") if current is not None else ""
        if key not in data:
            return str(default or "")
        return _text(data, key, limit, errors)

    translated = data.get("title_translated")
    if isinstance(translated, dict):
        data = {
            **data,
            "title": translated.get("ja", data.get("title")),
            "title_en": translated.get("en", data.get("title_en", "")),
        }
    values: dict[str, Any] = {
        "title": pick("title", 300),
        "title_en": pick("title_en", 300),
        "notes": pick("notes", 20000),
        "notes_en": pick("notes_en", 20000),
        "version": pick("version", 50),
        "author": pick("author", 200),
        "author_email": pick("author_email", 254),
        "maintainer": pick("maintainer", 200),
        "maintainer_email": pick("maintainer_email", 254),
        "url": pick("url", 500),
        "spatial": pick("spatial", 200),
        "frequency": pick("frequency", 30),
        "license_id": pick("license_id", 50) or "CC-BY-4.0",
        "schema_id": pick("schema", 60)
        if "schema" in data
        else (current.schema_id if current else ""),
    }
    if not values["title"]:
        errors.add("title", "タイトルは必須です / Missing value")
    if values["license_id"] not in LICENSES:
        errors.add(
            "license_id", f"ライセンスは {', '.join(LICENSES)} のいずれかです / unknown license"
        )
    if values["frequency"] not in FREQUENCIES:
        errors.add(
            "frequency",
            f"更新頻度は {', '.join(k for k in FREQUENCIES if k)} のいずれかです / unknown frequency",
        )
    if values["schema_id"] and standards.get_schema(values["schema_id"]) is None:
        errors.add(
            "schema", f"標準スキーマ {values['schema_id']!r} はありません / unknown standard schema"
        )
    if values["url"] and not values["url"].startswith(("http://", "https://")):
        errors.add("url", "http(s):// で始まるURLにしてください / must be an http(s) URL")
    for key in ("temporal_start", "temporal_end"):
        if key in data:
            values[key] = _check_date(_text(data, key, 30, errors), key, errors)
    if "private" in data:
        values["private"] = _bool(data.get("private"))
    if "owner_org" in data:
        owner = data.get("owner_org")
        if owner in (None, ""):
            values["owner_org"] = None
        elif not isinstance(owner, str):
            errors.add("owner_org", "組織の id か名前です / an organization id or name")
        else:
            org = session.scalar(
                select(Organization).where(
                    or_(Organization.id == owner, Organization.name == owner)
                )
            )
            if org is None:
                errors.add(
                    "owner_org", f"組織 {owner!r} はありません / Organization does not exist"
                )
            else:
                values["owner_org"] = org.id
    if "extras" in data:
        values["extras"] = _extras(data.get("extras"), errors)
    return values


def _extras(raw: Any, errors: _Errors) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    result: dict[str, Any] = {}
    items = raw if isinstance(raw, list) else None
    if items is None:
        errors.add(
            "extras", "extras は {key, value} のリストです / extras is a list of {key, value}"
        )
        return result
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            errors.add(
                "extras", "extras は {key, value} のリストです / extras is a list of {key, value}"
            )
            continue
        value = item.get("value")
        result[item["key"][:100]] = (
            value if isinstance(value, str | int | float | bool) else str(value)
        )
    return result


def create_dataset(
    session: Session, actor: User | None, data: dict[str, Any], *, via: str = "web"
) -> Dataset:
    """``package_create``: validate everything first, then write; nothing is half-created."""
    _require_write(actor)
    errors = _Errors()
    name = _text(data, "name", 100, errors) or slugify(
        str(data.get("title_en") or data.get("title") or "")
    )
    _check_name(name, errors)
    if name and session.scalar(select(Dataset.id).where(Dataset.name == name)):
        errors.add("name", "That URL is already in use. / このURL名は既に使われています")
    values = _dataset_values(session, data, errors, None)
    tags = _resolve_tags(session, data.get("tags"), errors)
    groups = _resolve_groups(session, data.get("groups"), errors)
    resources = data.get("resources") or []
    if not isinstance(resources, list):
        errors.add("resources", "resources はリストです / resources must be a list")
        resources = []
    errors.raise_if_any("データセットの入力に誤りがあります / invalid dataset")
    dataset = Dataset(name=name, **values)
    dataset.tags = tags
    dataset.groups = groups
    session.add(dataset)
    session.flush()
    for position, resource_data in enumerate(resources):
        if not isinstance(resource_data, dict):
            raise ValidationProblem(
                "resources の要素は辞書です / each resource is an object",
                errors={"resources": ["invalid"]},
            )
        _new_resource(session, dataset, resource_data, position)
    audit.record(
        session, actor, "dataset.create", "dataset", dataset.id, summary=dataset.title, via=via
    )
    return dataset


def update_dataset(
    session: Session,
    actor: User | None,
    id_or_name: str,
    data: dict[str, Any],
    *,
    patch: bool,
    via: str = "web",
) -> Dataset:
    """``package_update`` (replace all given metadata) or ``package_patch`` (only what is given)."""
    _require_write(actor)
    dataset = get_dataset(session, id_or_name, actor)
    errors = _Errors()
    if not patch:
        for key in (
            "notes",
            "notes_en",
            "title_en",
            "version",
            "author",
            "author_email",
            "maintainer",
            "maintainer_email",
            "url",
            "spatial",
            "frequency",
        ):
            data.setdefault(key, "")
    if "name" in data and data["name"] != dataset.name:
        new_name = _text(data, "name", 100, errors)
        _check_name(new_name, errors)
        if session.scalar(
            select(Dataset.id).where(Dataset.name == new_name, Dataset.id != dataset.id)
        ):
            errors.add("name", "That URL is already in use. / このURL名は既に使われています")
        dataset.name = new_name
    values = _dataset_values(session, data, errors, dataset)
    tags = _resolve_tags(session, data.get("tags"), errors) if "tags" in data or not patch else None
    groups = _resolve_groups(session, data.get("groups"), errors) if "groups" in data else None
    errors.raise_if_any("データセットの入力に誤りがあります / invalid dataset")
    for key, value in values.items():
        setattr(dataset, key, value)
    if tags is not None:
        dataset.tags = tags
    if groups is not None:
        dataset.groups = groups
    if "resources" in data and isinstance(data["resources"], list):
        _sync_resources(session, dataset, data["resources"])
    dataset.modified_at = utcnow()
    audit.record(
        session, actor, "dataset.update", "dataset", dataset.id, summary=dataset.title, via=via
    )
    return dataset


def _sync_resources(session: Session, dataset: Dataset, items: list[Any]) -> None:
    """Resources given in a package_update: keep those listed by id, add new, drop others."""
    keep: list[Resource] = []
    by_id = {r.id: r for r in dataset.resources}
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationProblem(
                "resources の要素は辞書です / each resource is an object",
                errors={"resources": ["invalid"]},
            )
        existing = by_id.get(str(item.get("id") or ""))
        if existing is not None:
            _apply_resource_metadata(existing, item)
            existing.position = position
            keep.append(existing)
        else:
            keep.append(_new_resource(session, dataset, item, position))
    for resource in dataset.resources:
        if resource not in keep:
            _drop_datastore(session, resource)
    dataset.resources = keep


def delete_dataset(
    session: Session, actor: User | None, id_or_name: str, *, via: str = "web"
) -> Dataset:
    _require_write(actor)
    dataset = get_dataset(session, id_or_name, actor)
    dataset.state = "deleted"
    dataset.modified_at = utcnow()
    audit.record(
        session, actor, "dataset.delete", "dataset", dataset.id, summary=dataset.title, via=via
    )
    return dataset


# --- resources -----------------------------------------------------------------------------


def _apply_resource_metadata(resource: Resource, data: dict[str, Any]) -> None:
    errors = _Errors()
    for key, limit in (
        ("name", 300),
        ("name_en", 300),
        ("description", 10000),
        ("format", 30),
        ("mimetype", 100),
    ):
        if key in data:
            setattr(resource, key, _text(data, key, limit, errors))
    if "url" in data and resource.url_type != "upload":
        url = _text(data, "url", 1000, errors)
        if url and not url.startswith(("http://", "https://")):
            errors.add("url", "http(s):// で始まるURLにしてください / must be an http(s) URL")
        resource.url = url
    errors.raise_if_any("リソースの入力に誤りがあります / invalid resource")
    if not resource.format and resource.url:
        resource.format = _format_from_name(resource.url)


def _new_resource(
    session: Session, dataset: Dataset, data: dict[str, Any], position: int
) -> Resource:
    resource = Resource(dataset_id=dataset.id, position=position)
    _apply_resource_metadata(resource, data)
    if not resource.name:
        resource.name = resource.url.rsplit("/", 1)[-1] if resource.url else "データ"
    session.add(resource)
    session.flush()
    return resource


def _format_from_name(name: str) -> str:
    suffix = Path(name.split("?", 1)[0]).suffix.lower()
    return UPLOAD_FORMATS.get(suffix, suffix.lstrip(".").upper())


def get_resource(session: Session, resource_id: str, viewer: User | None) -> Resource:
    if not isinstance(resource_id, str) or not resource_id:
        raise ValidationProblem(
            "id を指定してください / id is required", errors={"id": ["Missing value"]}
        )
    resource = session.scalar(
        select(Resource)
        .options(selectinload(Resource.fields), selectinload(Resource.dataset))
        .where(Resource.id == resource_id)
    )
    if resource is None or not _visible(resource.dataset, viewer):
        raise NotFoundProblem(
            f"リソース {resource_id!r} は見つかりません / resource {resource_id!r} not found"
        )
    return resource


def create_resource(
    session: Session,
    actor: User | None,
    package_id: str,
    data: dict[str, Any],
    *,
    via: str = "web",
) -> Resource:
    """``resource_create`` without a file (a link, or an empty table for datastore_create)."""
    _require_write(actor)
    dataset = get_dataset(session, package_id, actor)
    resource = _new_resource(session, dataset, data, len(dataset.resources))
    dataset.resources.append(resource)
    dataset.modified_at = utcnow()
    audit.record(
        session, actor, "resource.create", "resource", resource.id, summary=resource.name, via=via
    )
    return resource


def update_resource(
    session: Session,
    actor: User | None,
    resource_id: str,
    data: dict[str, Any],
    *,
    via: str = "web",
) -> Resource:
    """``resource_update`` of the metadata (a new file goes through ``upload_file``)."""
    _require_write(actor)
    resource = get_resource(session, resource_id, actor)
    _apply_resource_metadata(resource, data)
    resource.modified_at = utcnow()
    audit.record(
        session, actor, "resource.update", "resource", resource.id, summary=resource.name, via=via
    )
    return resource


def delete_resource(
    session: Session, actor: User | None, resource_id: str, *, via: str = "web"
) -> None:
    _require_write(actor)
    resource = get_resource(session, resource_id, actor)
    dataset = resource.dataset
    _drop_datastore(session, resource)
    session.delete(resource)
    session.flush()
    session.expire(dataset, ["resources"])
    dataset.modified_at = utcnow()
    audit.record(session, actor, "resource.delete", "resource", resource_id, via=via)


def _drop_datastore(session: Session, resource: Resource) -> None:
    if resource.datastore_active:
        datastore.drop_table(session.connection(), resource.id)
        resource.datastore_active = False
        emit(session, ResourceDataChanged(resource.dataset_id, resource.id, "", "deleted"))


@dataclass
class UploadedFile:
    """A file already on disk: in the file store (``digest`` known) or given to the CLI."""

    path: Path
    filename: str
    digest: str = ""
    size: int = 0


def upload_file(
    session: Session,
    actor: User | None,
    resource: Resource,
    upload: UploadedFile,
    files: FileStore,
    *,
    site_url: str,
    mode: str = "replace",
    encoding: str | None = None,
    via: str = "web",
    progress: ingest.Progress | None = None,
) -> ResourceVersion:
    """Store an uploaded file as the resource's next version and load its rows.

    Valid rows are loaded; invalid ones are reported with line numbers. A file with no valid
    row, or one that cannot be read at all, raises a ``ProblemError`` and writes nothing (the
    caller's transaction rolls back).
    """
    _require_write(actor)
    if mode not in ("replace", "append"):
        raise ValidationProblem(
            "mode は replace か append です / mode must be replace or append",
            errors={"mode": ["must be replace or append"]},
        )
    filename = Path(upload.filename or "upload.csv").name[:200] or "upload.csv"
    fmt = _format_from_name(filename)
    if upload.digest:
        digest, size, stored = upload.digest, upload.size, upload.path
    else:
        digest, size, stored = files.put_path(upload.path)
    dataset = resource.dataset
    version_number = (max((v.number for v in resource.versions), default=0)) + 1
    version = ResourceVersion(
        resource_id=resource.id,
        number=version_number,
        mode=mode if resource.datastore_active else "replace",
        filename=filename,
        file_hash=digest,
        size=size,
        media_type=_media_type(fmt),
        created_by=actor.name if actor else "",
    )
    if fmt.upper() in TABLE_FORMATS:
        report = _load_table(session, resource, stored, fmt, version.mode, encoding, progress)
        version.encoding = report.encoding
        version.rows_read = report.rows_read
        version.rows_valid = report.rows_valid
        version.rows_invalid = report.rows_invalid
        version.report = report.as_dict()
    resource.versions.append(version)
    resource.url = (
        f"{site_url.rstrip('/')}/dataset/{dataset.id}/resource/{resource.id}/download/{filename}"
    )
    resource.url_type = "upload"
    resource.format = fmt
    resource.mimetype = version.media_type
    resource.size = size
    resource.hash = digest
    resource.modified_at = utcnow()
    dataset.modified_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "resource.upload",
        "resource",
        resource.id,
        summary=f"{filename} v{version_number} ({version.rows_valid} rows)",
        detail={"mode": version.mode, "rows_invalid": version.rows_invalid},
        via=via,
    )
    if resource.datastore_active:
        emit(session, ResourceDataChanged(dataset.id, resource.id, dataset.schema_id, version.mode))
    return version


def _media_type(fmt: str) -> str:
    return {
        "CSV": "text/csv",
        "TSV": "text/tab-separated-values",
        "GEOJSON": "application/geo+json",
    }.get(fmt.upper(), "application/octet-stream")


def _open_source(
    path: Path, fmt: str, encoding: str | None, progress: ingest.Progress | None = None
) -> tuple[ingest.TableSource, str]:
    if fmt.upper() == "GEOJSON":
        return ingest.open_geojson(path)
    return ingest.open_csv(path, encoding, progress), ""


def _load_table(
    session: Session,
    resource: Resource,
    path: Path,
    fmt: str,
    mode: str,
    encoding: str | None,
    progress: ingest.Progress | None = None,
) -> ingest.IngestReport:
    dataset = resource.dataset
    source, mapped_schema = _open_source(path, fmt, encoding, progress)
    if mapped_schema and not dataset.schema_id:
        dataset.schema_id = mapped_schema
    schema = standards.get_schema(dataset.schema_id)
    existing = (
        [Field(f.name, f.type, f.kind, f.label) for f in resource.fields]
        if mode == "append"
        else None
    )
    plans, drift = ingest.plan_columns(source.header, schema, existing)
    address_step, block = addresses.plan(source.header, schema)
    plans += [
        ingest.ColumnPlan(name, len(plans) + i, "text", derived=True)
        for i, name in enumerate(block)
    ]
    if any(p.kind == "infer" for p in plans):
        ingest.infer_kinds(plans, _open_source(path, fmt, encoding)[0].rows)
        source = _open_source(path, fmt, encoding, progress)[0]
    report = ingest.IngestReport(
        encoding=source.encoding,
        encoding_ambiguous=source.ambiguous,
        delimiter=source.delimiter,
        schema=schema.id if schema else "",
        drift=drift,
        columns=plans,
        source_format=source.source_format,
    )
    if drift:
        report.warnings.extend(ingest.describe_drift(drift))
    if source.ambiguous:
        report.warnings.append(
            "UTF-8 と Shift_JIS のどちらとしても読めるため UTF-8 として読みました。文字化けしている場合は"
            "文字コードを指定してアップロードし直してください / the file reads as both UTF-8 and "
            "Shift_JIS; it was read as UTF-8 — upload again with the encoding chosen if text looks wrong"
        )
    conn = session.connection()
    fields = [p.as_field() for p in plans]
    rows = ingest.validated_rows(source.rows, plans, report, address_step)
    if mode == "append" and resource.datastore_active:
        known = {f.name for f in resource.fields}
        added = [f for f in fields if f.name not in known]
        datastore.add_columns(conn, resource.id, added)
        datastore.insert_rows(conn, resource.id, fields, rows)
        all_fields = [Field(f.name, f.type, f.kind, f.label) for f in resource.fields] + added
    else:
        suffix = "__loading"
        datastore.drop_table(conn, resource.id, suffix)
        datastore.create_table(conn, resource.id, fields, suffix)
        datastore.insert_rows(conn, resource.id, fields, rows, suffix)
        all_fields = fields
    if report.rows_read == 0:
        raise ValidationProblem(
            "見出し行だけでデータ行がありません / the file has a header but no data rows",
            errors={"file": ["header only"]},
            extra={"report": report.as_dict()},
        )
    if report.rows_valid == 0:
        raise ValidationProblem(
            f"有効な行が1行もありません（{report.rows_invalid}行すべてに誤り） / no valid row: "
            f"all {report.rows_invalid} rows have errors",
            errors={"file": ["no valid row"]},
            extra={"report": report.as_dict()},
        )
    if address_step is not None:
        report.address = address_step.summary()
        if address_step.unrecognized:
            report.warnings.append(
                f"{address_step.unrecognized}行の{address_step.column}を市区町村まで読み取れませんでした"
                f" / {address_step.unrecognized} addresses in {address_step.column} were not "
                "recognized down to the city (rows kept)"
            )
    if not (mode == "append" and resource.datastore_active):
        datastore.swap_in(conn, resource.id, "__loading")
    _set_fields(session, resource, all_fields)
    resource.datastore_active = True
    resource.row_count = datastore.count_rows(conn, resource.id)
    _index_codes(conn, resource.id, all_fields)
    return report


def _index_codes(conn: Any, resource_id: str, fields: Sequence[Field]) -> None:
    """Index the columns people filter on most: codes and IDs of the standard."""
    for f in fields:
        if f.kind in ("lg_code", "id"):
            datastore.create_index(conn, resource_id, f.name)


def _set_fields(session: Session, resource: Resource, fields: Sequence[Field]) -> None:
    labels = {f.name: f.label for f in resource.fields}
    resource.fields.clear()
    session.flush()
    for position, f in enumerate(fields):
        resource.fields.append(
            DatastoreField(
                position=position,
                name=f.name,
                type=f.type,
                kind=f.kind,
                label=f.label or labels.get(f.name, ""),
            )
        )
    lat = next((f.name for f in fields if f.kind == "latitude"), "")
    lon = next((f.name for f in fields if f.kind == "longitude"), "")
    resource.lat_field, resource.lon_field = (lat, lon) if lat and lon else ("", "")


def fields_of(resource: Resource) -> list[Field]:
    return [Field(f.name, f.type, f.kind, f.label) for f in resource.fields]


def version_of(resource: Resource, number: int | None = None) -> ResourceVersion:
    if not resource.versions:
        raise NotFoundProblem(
            "このリソースにはアップロードされたファイルがありません / no uploaded file"
        )
    if number is None:
        return resource.versions[-1]
    for version in resource.versions:
        if version.number == number:
            return version
    raise NotFoundProblem(f"版 {number} はありません / version {number} not found")


# --- DataStore writes through the API ------------------------------------------------------


def datastore_create(
    session: Session,
    actor: User | None,
    resource: Resource,
    fields: list[Any] | None,
    records: list[Any] | None,
    primary_key: Any = None,
    indexes: Any = None,
    *,
    via: str = "api",
) -> list[Field]:
    """Create (or extend) the resource's table from field definitions and insert records."""
    _require_write(actor)
    errors = _Errors()
    new_fields: list[Field] = []
    for number, item in enumerate(fields or []):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("id"), str)
            or not item["id"].strip()
        ):
            errors.add(
                "fields", f"{number + 1}番目の列に id がありません / field {number + 1} needs an id"
            )
            continue
        name = item["id"].strip()
        if name.startswith("_") or len(name) > 63 or '"' in name:
            errors.add("fields", f"列名 {name!r} は使えません / invalid field name {name!r}")
            continue
        try:
            field_type = datastore.normalize_type(str(item.get("type") or "text"))
        except ValidationProblem as exc:
            errors.add("fields", exc.detail)
            continue
        info: dict[str, Any] = item["info"] if isinstance(item.get("info"), dict) else {}
        new_fields.append(
            Field(name, field_type, _kind_for_type(field_type), str(info.get("label", ""))[:200])
        )
    names = [f.name for f in new_fields]
    if len(set(names)) != len(names):
        errors.add("fields", "列名が重複しています / duplicate field names")
    existing = fields_of(resource) if resource.datastore_active else []
    known = {f.name for f in existing}
    added = [f for f in new_fields if f.name not in known]
    all_fields = existing + added
    keys = _name_list(primary_key)
    for key in keys:
        if key not in {f.name for f in all_fields}:
            errors.add(
                "primary_key",
                f"主キー {key!r} は列にありません / primary key {key!r} is not a field",
            )
    index_names = _name_list(indexes)
    for key in index_names:
        if key not in {f.name for f in all_fields}:
            errors.add("indexes", f"索引 {key!r} は列にありません / index {key!r} is not a field")
    if not all_fields and records:
        all_fields = _fields_from_records(records, errors)
        added = all_fields
    errors.raise_if_any("datastore_create の入力に誤りがあります / invalid datastore_create")
    conn = session.connection()
    if resource.datastore_active:
        datastore.add_columns(conn, resource.id, added)
    else:
        datastore.drop_table(conn, resource.id)
        datastore.create_table(conn, resource.id, all_fields)
    if keys:
        resource.primary_key = ",".join(keys)
    for key in index_names + keys:
        datastore.create_index(conn, resource.id, key)
    _set_fields(session, resource, all_fields)
    resource.datastore_active = True
    if records:
        converted = convert_records(records, all_fields)
        method = "upsert" if keys else "insert"
        datastore.upsert_rows(conn, resource.id, all_fields, converted, keys, method)
    resource.row_count = datastore.count_rows(conn, resource.id)
    resource.modified_at = utcnow()
    audit.record(
        session,
        actor,
        "datastore.create",
        "resource",
        resource.id,
        detail={"fields": names},
        via=via,
    )
    emit(
        session,
        ResourceDataChanged(resource.dataset_id, resource.id, resource.dataset.schema_id, "create"),
    )
    return all_fields


def _kind_for_type(field_type: str) -> str:
    return {"int": "integer", "numeric": "number", "date": "date", "time": "time"}.get(
        field_type, "text"
    )


def _name_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [str(v) for v in value]
    raise ValidationProblem("列名のリストを指定してください / expected a list of field names")


def _fields_from_records(records: list[Any], errors: _Errors) -> list[Field]:
    names: list[str] = []
    for record in records:
        if isinstance(record, dict):
            for key in record:
                if key not in names:
                    names.append(str(key))
    if not names:
        errors.add("fields", "列の定義がありません / no fields given")
    return [Field(n, "text", "text") for n in names]


def convert_records(records: list[Any], fields: Sequence[Field]) -> list[dict[str, Any]]:
    """Records of a datastore_create/upsert, checked against the field types: all or none."""
    by_name = {f.name: f for f in fields}
    problems: list[str] = []
    converted: list[dict[str, Any]] = []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            problems.append(f"record {number}: not an object")
            continue
        row: dict[str, Any] = {}
        for key, value in record.items():
            field = by_name.get(key)
            if field is None:
                problems.append(f'record {number}: field "{key}" not in table')
                continue
            try:
                row[key] = _convert_value(value, field)
            except ValueError as exc:
                problems.append(f"record {number}: {key}: {exc}")
        converted.append(row)
    if problems:
        raise ValidationProblem(
            f"レコードに誤りがあります（{len(problems)}件） / {len(problems)} problems in records; "
            "nothing was written",
            errors={"records": problems[:100]},
        )
    return converted


def _convert_value(value: Any, field: Field) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, dict | list):
        raise ValueError("nested values are not supported")
    if field.type == "int":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"{value!r} is not an integer")
        return standards.check_integer(str(value))
    if field.type == "numeric":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        return standards.check_number(str(value))
    if field.type == "date":
        return standards.check_date(str(value))
    if field.type == "time":
        return standards.check_time(str(value))
    if field.type == "bool":
        return _bool(value)
    if field.type == "timestamp":
        try:
            return dt.datetime.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO timestamp") from None
    return str(value)


def datastore_upsert(
    session: Session,
    actor: User | None,
    resource: Resource,
    records: list[Any],
    method: str,
    *,
    via: str = "api",
) -> int:
    _require_write(actor)
    if not resource.datastore_active:
        raise NotFoundProblem(
            "このリソースにはデータストアの表がありません / no DataStore table for this resource"
        )
    if method not in ("upsert", "insert", "update"):
        raise ValidationProblem(
            "method は upsert, insert, update のいずれかです / invalid method",
            errors={"method": ["invalid"]},
        )
    fields = fields_of(resource)
    converted = convert_records(records, fields)
    keys = primary_key_of(resource)
    if method in ("upsert", "update") and not keys:
        if method == "update":
            raise ValidationProblem(
                "update には primary_key が必要です / update needs a primary key",
                errors={"method": ["no primary key"]},
            )
        method = "insert"
    conn = session.connection()
    count = datastore.upsert_rows(conn, resource.id, fields, converted, keys, method)
    resource.row_count = datastore.count_rows(conn, resource.id)
    resource.modified_at = utcnow()
    audit.record(
        session,
        actor,
        "datastore.upsert",
        "resource",
        resource.id,
        detail={"count": count, "method": method},
        via=via,
    )
    emit(
        session,
        ResourceDataChanged(resource.dataset_id, resource.id, resource.dataset.schema_id, method),
    )
    return count


def primary_key_of(resource: Resource) -> list[str]:
    return [k for k in resource.primary_key.split(",") if k]


def datastore_delete(
    session: Session,
    actor: User | None,
    resource: Resource,
    filters: dict[str, Any] | None,
    *,
    via: str = "api",
) -> int:
    _require_write(actor)
    if not resource.datastore_active:
        raise NotFoundProblem(
            "このリソースにはデータストアの表がありません / no DataStore table for this resource"
        )
    conn = session.connection()
    if filters:
        count = datastore.delete_rows(conn, resource.id, filters, fields_of(resource))
        resource.row_count = datastore.count_rows(conn, resource.id)
    else:
        count = resource.row_count
        _drop_datastore(session, resource)
        resource.fields.clear()
        resource.row_count = 0
    audit.record(
        session,
        actor,
        "datastore.delete",
        "resource",
        resource.id,
        detail={"count": count},
        via=via,
    )
    return count


# --- reading tables for other domains -------------------------------------------------------


def resources_with_schema(session: Session, schema_ids: Sequence[str]) -> list[Resource]:
    """The public, loaded tables of datasets declaring one of these standard schemas."""
    query = (
        select(Resource)
        .join(Dataset)
        .options(selectinload(Resource.fields), selectinload(Resource.dataset))
        .where(
            Dataset.schema_id.in_(list(schema_ids)),
            Dataset.state == "active",
            ~Dataset.private,
            Resource.datastore_active,
        )
        .order_by(Dataset.name, Resource.position)
    )
    return list(session.scalars(query))


def records(session: Session, resource: Resource) -> Iterator[dict[str, Any]]:
    """A table's rows as dicts keyed by the standard's 推奨 column names where it has a schema
    (所在地_連結表記 comes back as 住所, ID as NO …), so readers need not know the layout."""
    fields = fields_of(resource)
    schema = standards.get_schema(resource.dataset.schema_id)
    names = ["_id", *[schema.canonical(f.name) if schema else f.name for f in fields]]
    for row in datastore.iter_all(session.connection(), resource.id, fields):
        yield dict(zip(names, row, strict=True))
