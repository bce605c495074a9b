"""Posts as they arrive (JSON lines from a file or stdin): read, checked line by
line, and grouped so that retweets and near-copies count as one item with its copies.

A bad line never stops the others: it is reported with its number and the reason, and the
good lines go on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cityos.core import jsonlines, text
from cityos.sns.gazetteer import CITY, Gazetteer
from cityos.sns.triage import Triage, clean, fill_hazards, triage_post

_HASHTAG = re.compile(r"#\S+")
MAX_TEXT_CHARS = jsonlines.MAX_TEXT_CHARS
Problem = jsonlines.Problem


@dataclass
class Post:
    line: int
    id: str
    text: str
    created_at: datetime | None
    data: dict[str, Any]  # the object as it came
    duplicate_of: str | None = None  # the earliest post of its group, when this is a copy
    copies: int = 1  # on the earliest post: how many posts its group has
    key: str = field(default="", repr=False)


def _created_at(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def read_posts(lines: Iterable[bytes]) -> tuple[list[Post], list[Problem]]:
    """Every good post of ``lines`` (one JSON object a line), and what was wrong with the rest."""
    records, problems = jsonlines.read_records(lines)
    posts: list[Post] = []
    for record in records:
        created = _created_at(record.data.get("created_at"))
        if record.data.get("created_at") and created is None:
            problems.append(
                Problem(record.line, "created_at が日時ではありません（時刻なしで読みました） / "
                        "created_at is not a date-time (read without it)", kept=True)
            )  # fmt: skip
        posts.append(Post(record.line, record.id, record.text, created, record.data))
    problems.sort(key=lambda problem: problem.line)
    group(posts)
    return posts, problems


def _group_key(written: str) -> str:
    """Near-copies share a key: no RT prefix, links, mentions, hashtags, spaces or marks."""
    words = _HASHTAG.sub(" ", clean(written))
    return re.sub(r"[\W_]+", "", text.search_key(words))


def group(posts: list[Post]) -> None:
    """Mark retweets and near-copies as copies of the earliest post of their group."""
    by_id = {post.id: post for post in posts}
    groups: dict[str, list[Post]] = {}
    for post in posts:
        post.key = _group_key(post.text)
        origin = post.data.get("retweet_of")
        if isinstance(origin, str | int) and str(origin) in by_id:
            post.key = by_id[str(origin)].key or _group_key(by_id[str(origin)].text)
        if post.key:
            groups.setdefault(post.key, []).append(post)
    for members in groups.values():
        if len(members) == 1:
            continue
        members.sort(key=lambda p: (p.created_at is None, _sortable(p.created_at), p.line))
        first = members[0]
        first.copies = len(members)
        for other in members[1:]:
            other.duplicate_of = first.id


def _sortable(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0


def triage_batch(posts: list[Post], gazetteer: Gazetteer) -> list[Triage]:
    """The triage of every post (a copy gets its group's); posts without a hazard word take
    the hazard most posts of their day name."""
    by_id: dict[str, Triage] = {}
    results: list[Triage] = []
    for post in posts:
        if post.duplicate_of and post.duplicate_of in by_id:
            results.append(by_id[post.duplicate_of])
            continue
        result = triage_post(post.text, gazetteer)
        by_id[post.id] = result
        results.append(result)
    days = [post.created_at.date().isoformat() if post.created_at else "" for post in posts]
    fill_hazards(results, days)
    for post, result in zip(posts, results, strict=True):
        if result.town is None and not result.outside:
            _place_from_geo(post, result)
    return results


def geo_point(value: Any) -> tuple[float, float] | None:
    """A post's own location: {"lat": .., "lon": ..} (or "lng"/"long"), or a GeoJSON Point."""
    if not isinstance(value, dict):
        return None
    if value.get("type") == "Point" and isinstance(value.get("coordinates"), list):
        coordinates = value["coordinates"]
        pair = (coordinates[1], coordinates[0]) if len(coordinates) >= 2 else (None, None)
    else:
        pair = (value.get("lat"), value.get("lon", value.get("lng", value.get("long"))))
    lat, lon = pair
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)):
        return None
    if not (20.0 <= float(lat) <= 46.0 and 122.0 <= float(lon) <= 154.0):  # type: ignore[arg-type]
        return None
    return float(lat), float(lon)  # type: ignore[arg-type]


GEO_NEAR_M = 1000  # a phone's location this near a town's point is in it


def _place_from_geo(post: Post, result: Triage) -> None:
    """A post that names no place, sent with its location: the 町 there (without 丁目 — a
    phone's location is rough), or outside the city."""
    from cityos.address import service as addresses

    point = geo_point(post.data.get("geo"))
    if point is None:
        return
    found = addresses.reverse(*point)
    if found is None or found["distance_m"] > GEO_NEAR_M:
        return
    if found["city"] != CITY:
        result.outside = True
        result.explanation["town"] = f"三鷹市外 / outside Mitaka: 位置情報 / geo {found['city']}"
        return
    result.town = re.sub(r"[一二三四五六七八九十]+丁目$", "", found["town"])
    result.lat, result.lon = point
    result.explanation["town"] = f"{result.town}: 投稿の位置情報 / the post's location (geo)"
