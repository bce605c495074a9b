"""Finding datasets: CKAN's package_search semantics over the catalog, in Japanese.

Terms match as substrings after normalization (width, kana, case), so Japanese needs no word
segmentation. ``field:value`` filters follow the Solr syntax CKAN clients send.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core import text
from cityos.core.auth import can
from cityos.core.errors import ValidationProblem
from cityos.core.models import User
from cityos.opendata import standards
from cityos.opendata.models import Dataset, Tag
from cityos.opendata.service import dataset_query


class SearchQueryProblem(ValidationProblem):
    """A package_search parameter CKAN would reject as a "Search Query Error"."""

    status = 409
    type_slug = "search-query"
    title = "Search query error / 検索条件に誤りがあります"


FACET_FIELDS = ("organization", "groups", "tags", "res_format", "license_id", "schema")
_FQ_TOKEN = re.compile(r'([+-]?)([a-z_]+):("(?:[^"\\]|\\.)*"|\S+)')


@dataclass
class SearchResult:
    count: int
    datasets: list[Dataset]
    facets: dict[str, Counter[str]] = field(default_factory=dict)
    sort: str = ""


def _facet_values(dataset: Dataset, name: str) -> list[str]:
    if name == "organization":
        return [dataset.organization.name] if dataset.organization else []
    if name == "groups":
        return [g.name for g in dataset.groups]
    if name == "tags":
        return [t.name for t in dataset.tags]
    if name == "res_format":
        return sorted({r.format.upper() for r in dataset.resources if r.format})
    if name == "license_id":
        return [dataset.license_id]
    if name == "schema":
        return [dataset.schema_id] if dataset.schema_id else []
    if name == "name":
        return [dataset.name]
    if name in ("id", "owner_org"):
        return [getattr(dataset, name) or ""]
    if name == "private":
        return [str(dataset.private).lower()]
    raise SearchQueryProblem(
        f"検索できない項目です: {name} / cannot search on field {name!r}",
        errors={"fq": [f"unknown field {name}"]},
    )


FILTER_FIELDS = (*FACET_FIELDS, "name", "id", "owner_org", "private")


def _parse_filters(expression: str, *, strict: bool) -> list[tuple[bool, str, str]]:
    """``field:value`` filters of Solr syntax as used by CKAN clients; negation with ``-``.

    In ``fq`` an unknown field is an error; in ``q`` it is just text (say, a URL).
    """
    filters = []
    for sign, name, raw in _FQ_TOKEN.findall(expression or ""):
        if name not in FILTER_FIELDS:
            if strict:
                raise SearchQueryProblem(
                    f"検索できない項目です: {name} / cannot filter on field {name!r}",
                    errors={"fq": [f"unknown field {name}"]},
                )
            continue
        value = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
        filters.append((sign == "-", name, value))
    return filters


def _strip_filters(q: str) -> str:
    return _FQ_TOKEN.sub(lambda m: " " if m.group(2) in FILTER_FIELDS else m.group(0), q).strip()


def _haystack(dataset: Dataset) -> tuple[str, str, str]:
    org = dataset.organization
    title = text.search_key(f"{dataset.title} {dataset.title_en} {dataset.name}")
    tags = text.search_key(" ".join(t.name for t in dataset.tags))
    rest = text.search_key(
        " ".join(
            [
                dataset.notes,
                dataset.notes_en,
                org.title if org else "",
                org.title_en if org else "",
                " ".join(g.title for g in dataset.groups),
                " ".join(r.name for r in dataset.resources),
                standards.all_schemas()[dataset.schema_id].title
                if dataset.schema_id in standards.all_schemas()
                else "",
            ]
        )
    )
    return title, tags, rest


def _score(dataset: Dataset, terms: list[str]) -> float:
    if not terms:
        return 1.0
    title, tags, rest = _haystack(dataset)
    score = 0.0
    for term in terms:
        hit = 3.0 * (term in title) + 2.0 * (term in tags) + 1.0 * (term in rest)
        if not hit:
            return 0.0
        score += hit
    return score


_SORT_KEYS: dict[str, Callable[[Dataset, float], Any]] = {
    "score": lambda _d, score: score,
    "metadata_modified": lambda d, _s: d.modified_at,
    "metadata_created": lambda d, _s: d.created_at,
    "title_string": lambda d, _s: text.search_key(d.title),
    "name": lambda d, _s: d.name,
}


def _parse_sort(sort: str) -> list[tuple[str, bool]]:
    result = []
    for part in (sort or "score desc, metadata_modified desc").split(","):
        tokens = part.split()
        if not tokens:
            continue
        if (
            tokens[0] not in _SORT_KEYS
            or len(tokens) > 2
            or (len(tokens) == 2 and tokens[1].lower() not in ("asc", "desc"))
        ):
            raise SearchQueryProblem(
                f"並べ替え {part.strip()!r} には対応していません / cannot sort by {part.strip()!r}",
                errors={"sort": ["invalid sort"]},
            )
        result.append((tokens[0], len(tokens) == 2 and tokens[1].lower() == "desc"))
    return result


def search_datasets(
    session: Session,
    viewer: User | None,
    *,
    q: str = "",
    fq: str = "",
    rows: int = 10,
    start: int = 0,
    sort: str = "",
    facet_fields: Iterable[str] = (),
    include_private: bool = False,
) -> SearchResult:
    """``package_search``: free text in Japanese or English, ``field:value`` filters, facets.

    Terms match as substrings after normalization (width, kana, case), so Japanese needs no
    word segmentation: 「避難」 finds 指定緊急避難場所一覧.
    """
    query = dataset_query().where(Dataset.state == "active")
    if not (include_private and can(viewer, "catalog.read_private")):
        query = query.where(~Dataset.private)
    datasets = list(session.scalars(query))
    filters = _parse_filters(fq, strict=True) + _parse_filters(q, strict=False)
    free_text = _strip_filters(q or "")
    if free_text in ("*:*", "*"):
        free_text = ""
    terms = [key for part in text.normalize(free_text).split(" ") if (key := text.search_key(part))]
    order = _parse_sort(sort)
    scored: list[tuple[Dataset, float]] = []
    for dataset in datasets:
        if any(
            (value in _facet_values(dataset, name)) == negate for negate, name, value in filters
        ):
            continue
        score = _score(dataset, terms)
        if score > 0:
            scored.append((dataset, score))
    for key, descending in reversed(order):
        scored.sort(key=lambda item: _SORT_KEYS[key](item[0], item[1]), reverse=descending)
    facets: dict[str, Counter[str]] = {}
    for name in facet_fields:
        if name not in FACET_FIELDS:
            raise SearchQueryProblem(
                f"集計できない項目です: {name} / cannot facet on {name!r}",
                errors={"facet.field": [f"unknown facet {name}"]},
            )
        facets[name] = Counter(v for dataset, _ in scored for v in _facet_values(dataset, name))
    page = [dataset for dataset, _ in scored[start : start + rows]]
    return SearchResult(len(scored), page, facets, sort or "score desc, metadata_modified desc")


def list_dataset_names(
    session: Session, viewer: User | None, limit: int | None = None, offset: int = 0
) -> list[str]:
    query = (
        select(Dataset.name).where(Dataset.state == "active").order_by(Dataset.name).offset(offset)
    )
    if not can(viewer, "catalog.read_private"):
        query = query.where(~Dataset.private)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def tag_names(session: Session, viewer: User | None, query_text: str = "") -> list[str]:
    query = select(Tag.name).order_by(Tag.name)
    names = list(session.scalars(query))
    if query_text:
        key = text.search_key(query_text)
        names = [n for n in names if key in text.search_key(n)]
    return names


def organization_dataset_counts(session: Session, viewer: User | None) -> dict[str, int]:
    query = (
        select(Dataset.owner_org, func.count())
        .where(Dataset.state == "active")
        .group_by(Dataset.owner_org)
    )
    if not can(viewer, "catalog.read_private"):
        query = query.where(~Dataset.private)
    return {org_id: count for org_id, count in session.execute(query) if org_id}
