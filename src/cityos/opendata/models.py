"""Catalog tables: organizations, groups, datasets, resources and their uploaded versions.

The rows of each resource's data live in a table of their own (see ``datastore.py``),
named after the resource id as CKAN's DataStore does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityos.db import Base, new_id, utcnow

dataset_tags = Table(
    "dataset_tags",
    Base.metadata,
    Column("dataset_id", ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)

dataset_groups = Table(
    "dataset_groups",
    Base.metadata,
    Column("dataset_id", ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class Organization(Base):
    """A department of the city (or another publisher) that owns datasets."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="active")

    datasets: Mapped[list[Dataset]] = relationship(back_populates="organization")


class Group(Base):
    """A theme grouping datasets across departments (防災, 子育て, 観光 ...)."""

    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default="active")


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Dataset(Base):
    """A dataset (CKAN "package"): metadata plus one or more resources."""

    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    notes_en: Mapped[str] = mapped_column(Text, default="")
    owner_org: Mapped[str | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), default=None, index=True
    )
    license_id: Mapped[str] = mapped_column(String(50), default="CC-BY-4.0")
    frequency: Mapped[str] = mapped_column(String(30), default="")
    spatial: Mapped[str] = mapped_column(String(200), default="")
    temporal_start: Mapped[str] = mapped_column(String(10), default="")
    temporal_end: Mapped[str] = mapped_column(String(10), default="")
    schema_id: Mapped[str] = mapped_column(String(60), default="")
    version: Mapped[str] = mapped_column(String(50), default="")
    author: Mapped[str] = mapped_column(String(200), default="")
    author_email: Mapped[str] = mapped_column(String(254), default="")
    maintainer: Mapped[str] = mapped_column(String(200), default="")
    maintainer_email: Mapped[str] = mapped_column(String(254), default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    private: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(16), default="active", index=True)
    extras: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organization: Mapped[Organization | None] = relationship(back_populates="datasets")
    tags: Mapped[list[Tag]] = relationship(secondary=dataset_tags, order_by=Tag.name)
    groups: Mapped[list[Group]] = relationship(secondary=dataset_groups, order_by=Group.name)
    resources: Mapped[list[Resource]] = relationship(
        back_populates="dataset",
        order_by="Resource.position",
        cascade="all, delete-orphan",
    )


class Resource(Base):
    """A file or link of a dataset. Uploaded tables also get a DataStore table."""

    __tablename__ = "resources"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(300), default="")
    name_en: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(30), default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    url_type: Mapped[str] = mapped_column(String(16), default="")
    mimetype: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int | None] = mapped_column(default=None)
    hash: Mapped[str] = mapped_column(String(80), default="")
    datastore_active: Mapped[bool] = mapped_column(default=False)
    lat_field: Mapped[str] = mapped_column(String(100), default="")
    lon_field: Mapped[str] = mapped_column(String(100), default="")
    row_count: Mapped[int] = mapped_column(default=0)
    primary_key: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    dataset: Mapped[Dataset] = relationship(back_populates="resources")
    versions: Mapped[list[ResourceVersion]] = relationship(
        back_populates="resource",
        order_by="ResourceVersion.number",
        cascade="all, delete-orphan",
    )
    fields: Mapped[list[DatastoreField]] = relationship(
        order_by="DatastoreField.position", cascade="all, delete-orphan"
    )


class ResourceVersion(Base):
    """One upload of a resource's file, with its validation report. Files stay downloadable."""

    __tablename__ = "resource_versions"
    __table_args__ = (UniqueConstraint("resource_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    number: Mapped[int]
    mode: Mapped[str] = mapped_column(String(16), default="replace")
    filename: Mapped[str] = mapped_column(String(300))
    file_hash: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    media_type: Mapped[str] = mapped_column(String(100), default="text/csv")
    encoding: Mapped[str] = mapped_column(String(20), default="")
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_valid: Mapped[int] = mapped_column(default=0)
    rows_invalid: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")

    resource: Mapped[Resource] = relationship(back_populates="versions")


class DatastoreField(Base):
    """A column of a resource's DataStore table, in order, with its CKAN type."""

    __tablename__ = "datastore_fields"
    __table_args__ = (Index("ix_datastore_fields_resource", "resource_id", "position"),)

    resource_id: Mapped[str] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(30), default="")
