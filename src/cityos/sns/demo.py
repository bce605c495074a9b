"""The posts of the flood demo: residents' posts during the 野川 flood, replayed as a stream.

The posts (``data/flood_demo_posts.jsonl``) are fictional, written for the demo: calls for
rescue in 大沢, shortages at the shelters, outages, questions, warnings, and the noise any
real stream carries (prayers, an advert, a game). Each has a ``minute`` from the flood's start;
the replay dates it within the demo's flood window and feeds the posts in time order, a few at
a time, through the same intake as the HTTP endpoint and the stream workers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import orjson
from sqlalchemy.orm import Session

from cityos.sns import gazetteer, service

FLOOD_POSTS = "flood_demo_posts.jsonl"
SCRIPT_MINUTES = 90  # the posts' minutes run from 0 to this
QUESTION = "大沢で何が不足している？"


@cache
def flood_posts() -> tuple[dict[str, Any], ...]:
    source = resources.files("cityos.sns") / "data" / FLOOD_POSTS
    rows = [json.loads(line) for line in source.read_text("utf-8").splitlines() if line.strip()]
    return tuple(sorted(rows, key=lambda row: row["minute"]))


@dataclass
class Replay:
    stored: int = 0
    copies: int = 0
    categories: dict[str, int] = field(default_factory=dict)
    rescue: int = 0  # calls for rescue in the queue
    areas: list[str] = field(default_factory=list)  # the neediest towns' summaries
    question: str = QUESTION
    answer: str = ""


def replay_flood(
    session: Session, start: datetime, minutes: int, *, secret: str, stamp: str
) -> Replay:
    """Feed the demo's posts as if they arrived during the flood (start … start+minutes)."""
    places = gazetteer.gazetteer_from(session)
    scale = minutes / SCRIPT_MINUTES
    report = Replay()
    ids: list[str] = []
    batch: list[bytes] = []
    for row in flood_posts():
        moment = start + timedelta(minutes=row["minute"] * scale)
        post = {k: v for k, v in row.items() if k != "minute"}
        post["id"] = f"flood-{stamp}-{row['id']}"
        if "retweet_of" in row:
            post["retweet_of"] = f"flood-{stamp}-{row['retweet_of']}"
        post["created_at"] = moment.isoformat()
        batch.append(orjson.dumps(post))
        if len(batch) == 5:
            ids += _feed(session, batch, places, secret, moment, report)
            batch = []
    if batch:
        ids += _feed(session, batch, places, secret, start + timedelta(minutes=minutes), report)
    counts: dict[str, int] = {}
    for stored in service.posts_by_ids(session, ids):
        counts[stored.category] = counts.get(stored.category, 0) + 1
    report.categories = dict(sorted(counts.items(), key=lambda item: -item[1]))
    queue = service.queue(session, service.QueueFilter(category="rescue_request"))
    mine = set(ids)
    report.rescue = sum(1 for item in queue if item.post_id in mine)
    window_end = start + timedelta(minutes=minutes + 1)
    areas = service.area_summaries(session, start, window_end)
    report.areas = [area.summary_ja for area in areas[:3]]
    report.answer = service.answer(session, QUESTION, places, since=start).answer_ja
    return report


def _feed(
    session: Session,
    batch: list[bytes],
    places: gazetteer.Gazetteer,
    secret: str,
    moment: datetime,
    report: Replay,
) -> list[str]:
    fed = service.ingest(
        session, batch, places, secret=secret, source="demo", worker="demo", now=moment
    )
    if fed.problems:
        raise ValueError(f"the demo posts have a bad line: {fed.problems[0]}")
    report.stored += fed.stored
    report.copies += fed.copies
    return fed.ids
