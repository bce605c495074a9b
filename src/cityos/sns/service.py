"""The SNS domain's logic: store triaged posts, the staff queue and its marks, the export for
the fire service, area summaries (D-SUMM-like) and answers to questions (DISAANA-like).

Every way posts arrive — the HTTP batch endpoint, the Redis Stream workers, the flood demo —
goes through :func:`ingest`, so they are read, grouped, triaged and stored the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session

from cityos.core import audit, csvexport, text
from cityos.core.errors import NotFoundProblem, ValidationProblem
from cityos.core.models import User
from cityos.db import new_id, utcnow
from cityos.sns import posts as post_reader
from cityos.sns.gazetteer import Gazetteer, Place, town_in_english
from cityos.sns.models import MARKS, URGENCY_RANK, SnsMark, SnsPost
from cityos.sns.triage import CATEGORIES, HAZARDS, clean

READ_PERMISSION = "sns.read"
WRITE_PERMISSION = "sns.write"  # send posts in (an integration's token)
MARK_PERMISSION = "sns.mark"  # mark posts handled / passed to the fire service

CATEGORY_LABELS = {
    "rescue_request": ("救助要請", "Rescue request"),
    "damage_report": ("被害報告", "Damage report"),
    "supplies_need": ("物資の不足", "Supplies needed"),
    "infrastructure": ("ライフライン・交通", "Utilities and transport"),
    "shelter_evacuation": ("避難・避難所", "Evacuation and shelters"),
    "info_request": ("質問", "Question"),
    "caution_advice": ("注意喚起", "Warning or advice"),
    "not_relevant": ("関連なし", "Not relevant"),
}
URGENCY_LABELS = {"high": ("高", "High"), "medium": ("中", "Medium"), "low": ("低", "Low")}
HAZARD_LABELS = {
    "flood": ("水害", "Flood"),
    "earthquake": ("地震", "Earthquake"),
    "fire": ("火災", "Fire"),
    "landslide": ("土砂災害", "Landslide"),
    "storm": ("風水害（台風・大雨）", "Storm"),
    "other": ("その他", "Other"),
    "none": ("なし", "None"),
}
MARK_LABELS = {
    "open": ("未対応", "Open"),
    "handled": ("対応済み", "Handled"),
    "fire_service": ("消防へ連絡済み", "Passed to the fire service"),
}
# How much a town needs help, by what its posts report (the map's colour).
NEED_WEIGHTS = {
    "rescue_request": 5.0,
    "supplies_need": 3.0,
    "damage_report": 2.0,
    "shelter_evacuation": 1.0,
    "infrastructure": 1.0,
}
MAX_QUEUE = 500


def poster_hash(secret: str, user: Any) -> str:
    """The poster's account as a salted hash: the same account gives the same value in this
    city's database, and the account cannot be read back from it."""
    if not isinstance(user, str | int) or isinstance(user, bool) or not str(user).strip():
        return ""
    name = str(user).strip().lstrip("@").lower()
    digest = hmac.new(f"sns-poster:{secret}".encode(), name.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def base_town(town: str | None) -> str:
    """大沢四丁目 → 大沢: the 町 a 丁目 belongs to."""
    return re.sub(r"[一二三四五六七八九十]+丁目$", "", town or "")


# --- intake --------------------------------------------------------------------------------


@dataclass
class IngestReport:
    received: int = 0  # good lines read
    stored: int = 0  # new posts stored (copies included)
    copies: int = 0  # of those, retweets and near-copies of an earlier post
    already: int = 0  # sent before (same id): kept as they were
    problems: list[post_reader.Problem] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # the post ids stored

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored": self.stored,
            "copies": self.copies,
            "already_received": self.already,
            "problems": [
                {"line": p.line, "reason": p.reason, "kept": p.kept} for p in self.problems
            ],
        }


def ingest(
    session: Session,
    lines: Iterable[bytes],
    places: Gazetteer,
    *,
    secret: str,
    source: str,
    worker: str = "",
    now: datetime | None = None,
) -> IngestReport:
    """Read posts (one JSON object a line), triage the new ones and store them, grouped with
    what was stored before. Posts already stored (same id) are left as they were, so sending a
    batch twice, or a worker redoing a batch, stores nothing twice."""
    found, problems = post_reader.read_posts(lines)
    report = IngestReport(received=len(found), problems=problems)
    if not found:
        return report
    stored_ids = _existing(session, [p.id for p in found])
    fresh = [p for p in found if p.id not in stored_ids]
    report.already = len(found) - len(fresh)
    if not fresh:
        return report
    _link_to_stored(session, fresh)
    results = post_reader.triage_batch(fresh, places)
    moment = now or utcnow()
    rows: list[dict[str, Any]] = []
    for post, result in zip(fresh, results, strict=True):
        extra = {
            k: v for k, v in post.data.items() if k not in ("id", "text", "user", "created_at")
        }
        rows.append(
            {
                "id": new_id(),
                "post_id": post.id,
                "text": post.text,
                "posted_at": _aware(post.created_at) if post.created_at else moment,
                "received_at": moment,
                "poster_hash": poster_hash(secret, post.data.get("user")),
                "lang": str(post.data.get("lang") or "")[:20],
                "source": source,
                "extra": extra,
                "group_key": post.key[:200],
                "duplicate_of": None,
                "copies": 1,
                "category": result.category,
                "urgency": result.urgency,
                "urgency_rank": URGENCY_RANK[result.urgency],
                "hazard": result.hazard,
                "town": result.town,
                "lat": result.lat,
                "lon": result.lon,
                "outside": result.outside,
                "explanation": result.explanation,
                "triaged_by": worker[:80],
                "mark": "open",
                "marked_by": "",
            }
        )
    # One multi-row INSERT; then only the groups that have more than one post are re-read.
    session.execute(insert(SnsPost).execution_options(render_nulls=True), rows)
    report.ids = [row["post_id"] for row in rows]
    copies = _regroup(session, {row["group_key"] for row in rows if row["group_key"]})
    session.flush()
    report.stored = len(fresh)
    report.copies = len(copies & set(report.ids))
    return report


def _existing(session: Session, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        found |= set(session.scalars(select(SnsPost.post_id).where(SnsPost.post_id.in_(chunk))))
    return found


def _link_to_stored(session: Session, fresh: list[post_reader.Post]) -> None:
    """A retweet of a post stored in an earlier batch joins that post's group."""
    batch = {p.id for p in fresh}
    origins = {
        str(p.data["retweet_of"]): p
        for p in fresh
        if isinstance(p.data.get("retweet_of"), str | int)
        and str(p.data["retweet_of"]) not in batch
    }
    if not origins:
        return
    for post_id, key in session.execute(
        select(SnsPost.post_id, SnsPost.group_key).where(SnsPost.post_id.in_(list(origins)))
    ):
        if key:
            origins[post_id].key = key


def _lock_groups(session: Session, keys: list[str]) -> None:
    """On PostgreSQL, hold a lock on each group until commit, so that two workers storing
    copies of one post at the same moment regroup one after the other (each then sees the
    other's posts). Taken in one order, so two batches never wait on each other in a circle."""
    if not keys or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text_sql(
            "SELECT pg_advisory_xact_lock(h) FROM "
            "(SELECT DISTINCT hashtext('sns:' || k) AS h FROM unnest(CAST(:keys AS text[])) AS k "
            "ORDER BY h) AS ordered"
        ),
        {"keys": keys},
    )


def _regroup(session: Session, keys: set[str]) -> set[str]:
    """Within each group of near-copies, the earliest post stands for the group and counts it;
    the others point at it. Answers the post ids that are copies."""
    ordered = sorted(keys)
    copies: set[str] = set()
    _lock_groups(session, ordered)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        shared = list(
            session.scalars(
                select(SnsPost.group_key)
                .where(SnsPost.group_key.in_(chunk))
                .group_by(SnsPost.group_key)
                .having(func.count() > 1)
            )
        )
        if not shared:
            continue
        groups: dict[str, list[SnsPost]] = {}
        query = (
            select(SnsPost)
            .where(SnsPost.group_key.in_(shared))
            .order_by(SnsPost.posted_at, SnsPost.received_at, SnsPost.post_id)
        )
        for row in session.scalars(query):
            groups.setdefault(row.group_key, []).append(row)
        for members in groups.values():
            first = members[0]
            if first.duplicate_of is not None or first.copies != len(members):
                first.duplicate_of = None
                first.copies = len(members)
            _carry_mark(first, members[1:])
            for other in members[1:]:
                copies.add(other.post_id)
                if other.duplicate_of != first.post_id or other.copies != 1:
                    other.duplicate_of = first.post_id
                    other.copies = 1
    return copies


def _carry_mark(first: SnsPost, others: list[SnsPost]) -> None:
    """When an earlier copy arrives and stands for its group, the group keeps the mark staff
    put on it (it must not come back to the queue as new)."""
    if first.mark != "open":
        return
    marked = [o for o in others if o.mark != "open" and o.marked_at is not None]
    if marked:
        latest = max(marked, key=lambda o: o.marked_at or utcnow())
        first.mark, first.marked_by, first.marked_at = (
            latest.mark,
            latest.marked_by,
            latest.marked_at,
        )


# --- the staff queue -----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    category: str = ""
    town: str = ""
    hazard: str = ""
    mark: str = "open"  # open, handled, fire_service, or "" for all
    since: datetime | None = None
    include_not_relevant: bool = False

    def check(self) -> QueueFilter:
        errors: dict[str, list[str]] = {}
        if self.category and self.category not in CATEGORIES:
            errors["category"] = ["分類が不正です / unknown category"]
        if self.hazard and self.hazard not in HAZARDS:
            errors["hazard"] = ["災害の種別が不正です / unknown hazard"]
        if self.mark and self.mark not in MARKS:
            errors["mark"] = ["対応状況が不正です / unknown mark"]
        if errors:
            raise ValidationProblem("条件が不正です / invalid filter", errors=errors)
        return self


def queue(session: Session, where: QueueFilter, limit: int = 200) -> list[SnsPost]:
    """The posts staff should look at: one item per group of copies, most urgent first, then
    newest. Posts about places outside the city and not-relevant posts stay out unless asked."""
    query = select(SnsPost).where(SnsPost.duplicate_of.is_(None))
    if where.category:
        query = query.where(SnsPost.category == where.category)
    elif not where.include_not_relevant:
        query = query.where(SnsPost.category != "not_relevant", SnsPost.outside.is_(False))
    if where.town:
        query = query.where(SnsPost.town.startswith(where.town, autoescape=True))
    if where.hazard:
        query = query.where(SnsPost.hazard == where.hazard)
    if where.mark:
        query = query.where(SnsPost.mark == where.mark)
    if where.since:
        query = query.where(SnsPost.posted_at >= where.since)
    query = query.order_by(SnsPost.urgency_rank.desc(), SnsPost.posted_at.desc(), SnsPost.id)
    return list(session.scalars(query.limit(min(limit, MAX_QUEUE))))


def facets(session: Session) -> dict[str, Counter[str]]:
    """How many open items each category, town and hazard has (for the filters)."""
    rows = session.execute(
        select(SnsPost.category, SnsPost.town, SnsPost.hazard).where(
            SnsPost.duplicate_of.is_(None),
            SnsPost.mark == "open",
            SnsPost.category != "not_relevant",
            SnsPost.outside.is_(False),
        )
    ).all()
    return {
        "category": Counter(r.category for r in rows),
        "town": Counter(base_town(r.town) for r in rows if r.town),
        "hazard": Counter(r.hazard for r in rows),
    }


def totals(session: Session) -> dict[str, int]:
    posts = session.scalar(select(func.count()).select_from(SnsPost)) or 0
    items = session.scalar(
        select(func.count()).select_from(SnsPost).where(SnsPost.duplicate_of.is_(None))
    )
    return {"posts": posts, "items": items or 0}


def posts_by_ids(session: Session, post_ids: Sequence[str]) -> list[SnsPost]:
    """Stored posts by the ids they came with."""
    found: list[SnsPost] = []
    for start in range(0, len(post_ids), 500):
        chunk = list(post_ids[start : start + 500])
        found += session.scalars(select(SnsPost).where(SnsPost.post_id.in_(chunk)))
    return found


def get_post(session: Session, post_uuid: str) -> SnsPost:
    row = session.get(SnsPost, post_uuid)
    if row is None:
        raise NotFoundProblem("投稿が見つかりません / no such post")
    return row


def set_mark(
    session: Session, user: User, post_uuid: str, mark: str, note: str = "", via: str = "web"
) -> SnsPost:
    """Mark a post (and so its group) handled, passed to the fire service, or open again; who
    and when are kept, each time."""
    if mark not in MARKS:
        raise ValidationProblem(
            "対応状況が不正です / unknown mark",
            errors={"mark": [f"one of {', '.join(MARKS)}"]},
        )
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationProblem(
            "メモが長すぎます / the note is too long",
            errors={"note": ["500文字まで / at most 500 characters"]},
        )
    row = get_post(session, post_uuid)
    moment = utcnow()
    row.mark = mark
    row.marked_by = user.name
    row.marked_at = moment
    session.add(SnsMark(post_id=row.id, mark=mark, note=note, user_name=user.name, at=moment))
    audit.record(
        session,
        user,
        "sns.mark",
        "sns_post",
        row.id,
        summary=f"{row.post_id}: {mark}" + (f" ({note})" if note else ""),
        via=via,
    )
    session.flush()
    return row


def marks_of(session: Session, post_uuid: str) -> list[SnsMark]:
    return list(
        session.scalars(select(SnsMark).where(SnsMark.post_id == post_uuid).order_by(SnsMark.at))
    )


EXPORT_COLUMNS = (
    "post_id",
    "posted_at",
    "category",
    "urgency",
    "hazard",
    "town",
    "lat",
    "lon",
    "copies",
    "text",
    "mark",
    "marked_by",
    "marked_at",
)


def export_csv(rows: Sequence[SnsPost]) -> bytes:
    """The queue as CSV for the fire service: UTF-8 with a BOM so Excel reads it, times in
    Japan time, Japanese headers under the field names."""
    return csvexport.excel_csv(
        EXPORT_COLUMNS,
        (
            "投稿ID",
            "投稿日時",
            "分類",
            "緊急度",
            "災害",
            "町名",
            "緯度",
            "経度",
            "件数",
            "本文",
            "対応",
            "対応者",
            "対応日時",
        ),
        (
            (
                row.post_id,
                row.posted_at,
                CATEGORY_LABELS[row.category][0],
                URGENCY_LABELS[row.urgency][0],
                HAZARD_LABELS.get(row.hazard, (row.hazard,))[0],
                row.town,
                f"{row.lat:.6f}" if row.lat is not None else "",
                f"{row.lon:.6f}" if row.lon is not None else "",
                row.copies,
                row.text,
                MARK_LABELS[row.mark][0],
                row.marked_by,
                row.marked_at,
            )
            for row in rows
        ),
    )


# --- area summaries ------------------------------------------------------------------------


@dataclass
class AreaSummary:
    town: str
    counts: dict[str, int]  # items by category
    posts: int  # posts, copies included
    need: float  # how much help the area needs (weights by category)
    level: int  # 0 quiet … 3 severe (the map's colour)
    lat: float | None
    lon: float | None
    representatives: list[SnsPost]
    summary_ja: str
    summary_en: str


def area_summaries(
    session: Session, since: datetime, until: datetime, per_town: int = 3
) -> list[AreaSummary]:
    """Per town, for a window: counts by category, the few most representative distinct
    posts, and a short extractive summary; the neediest town first."""
    rows = list(
        session.scalars(
            select(SnsPost).where(
                SnsPost.duplicate_of.is_(None),
                SnsPost.posted_at >= since,
                SnsPost.posted_at < until,
                SnsPost.town.is_not(None),
                SnsPost.outside.is_(False),
                SnsPost.category != "not_relevant",
            )
        )
    )
    by_town: dict[str, list[SnsPost]] = {}
    for row in rows:
        by_town.setdefault(base_town(row.town), []).append(row)
    summaries = []
    for town, members in by_town.items():
        counts = Counter(m.category for m in members)
        need = sum(NEED_WEIGHTS.get(m.category, 0.0) * (1 + math.log(m.copies)) for m in members)
        chosen = _representatives(members, per_town)
        points = [(m.lat, m.lon) for m in members if m.lat is not None and m.lon is not None]
        lat = sum(p[0] for p in points) / len(points) if points else None
        lon = sum(p[1] for p in points) / len(points) if points else None
        ja, en = _summary_text(town, counts, chosen)
        summaries.append(
            AreaSummary(
                town=town,
                counts=dict(counts),
                posts=sum(m.copies for m in members),
                need=round(need, 1),
                level=_level(need, counts),
                lat=lat,
                lon=lon,
                representatives=chosen,
                summary_ja=ja,
                summary_en=en,
            )
        )
    summaries.sort(key=lambda s: (-s.need, -s.posts, s.town))
    return summaries


def _level(need: float, counts: Counter[str]) -> int:
    if counts.get("rescue_request") or need >= 15:
        return 3
    if need >= 6:
        return 2
    return 1 if need > 0 else 0


def _importance(row: SnsPost) -> float:
    return (
        row.urgency_rank * 2.0
        + NEED_WEIGHTS.get(row.category, 0.5)
        + math.log(row.copies)
        + (0.5 if row.town and row.town.endswith("丁目") else 0.0)
    )


def _bigrams(written: str) -> set[str]:
    key = text.search_key(clean(written))
    return {key[i : i + 2] for i in range(len(key) - 1)}


def _representatives(members: list[SnsPost], count: int) -> list[SnsPost]:
    """The most important posts that say different things (a post too like one already chosen
    gives way to the next)."""
    chosen: list[SnsPost] = []
    grams: list[set[str]] = []
    for row in sorted(members, key=lambda r: (-_importance(r), r.posted_at)):
        mine = _bigrams(row.text)
        if any(len(mine & other) / max(1, len(mine | other)) > 0.4 for other in grams):
            continue
        chosen.append(row)
        grams.append(mine)
        if len(chosen) == count:
            break
    return chosen


_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])")
_NOISE = re.compile(r"#\S+|[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")


def _sentence(written: str, limit: int = 60) -> str:
    """The opening of a post that says something (sentences up to about 20 characters at
    least), without links, tags or emoji."""
    cleaned = _NOISE.sub("", clean(written))
    said = ""
    for part in _SENTENCE_END.split(cleaned):
        part = re.sub(r"\s+", " ", part).strip(" 　")
        if not part:
            continue
        said = (
            f"{said} {part}".strip()
            if said and not said.endswith(("。", "！", "？", "!", "?"))
            else said + part
        )
        if len(said) >= 20:
            break
    said = said.rstrip("。")
    return said if len(said) <= limit else said[: limit - 1] + "…"


def _summary_text(town: str, counts: Counter[str], chosen: list[SnsPost]) -> tuple[str, str]:
    order = [c for c in CATEGORIES if counts.get(c)]
    ja_counts = "、".join(f"{CATEGORY_LABELS[c][0]}{counts[c]}件" for c in order[:4])
    en_counts = ", ".join(f"{counts[c]} {CATEGORY_LABELS[c][1].lower()}" for c in order[:4])
    quotes = "".join(f"「{_sentence(row.text)}」" for row in chosen[:2])
    return f"{town}：{ja_counts}。{quotes}", f"{town_in_english(town)}: {en_counts}."


# --- questions -----------------------------------------------------------------------------

# What people run short of, by the words they use (Japanese on the search key, English).
SUPPLY_ITEMS: list[tuple[str, str, str, str]] = [
    ("ミルク", "milk", r"みるく|粉ミルク|ミルク|液体ミルク", r"\b(baby )?milk|formula"),
    ("おむつ", "diapers", r"おむつ|オムツ|紙パンツ", r"diaper|nappies|nappy"),
    (
        "飲み水",
        "drinking water",
        r"飲み水|飲料水|水が足り|水がな|水不足|給水|お水|みず|(?<!断)水(?!位|害|道|没|浸)",
        r"\bwater\b",
    ),
    (
        "食料",
        "food",
        r"食料|食べ物|食糧|おにぎり|パン|ごはん|弁当|非常食|たべもの",
        r"\bfood|meals?\b|bread",
    ),
    ("毛布", "blankets", r"毛布|ブランケット|寝具|布団", r"blanket|bedding"),
    (
        "薬",
        "medicine",
        r"薬|インスリン|いんすりん|常備薬|くすり",
        r"medicine|medication|insulin|drugs?\b",
    ),
    ("トイレ", "toilets", r"トイレ|といれ|簡易便所", r"toilet"),
    (
        "電池・充電",
        "batteries and charging",
        r"電池|充電|バッテリー|モバイルバッテリー",
        r"batter|charg",
    ),
    ("明かり", "lights", r"懐中電灯|ライト|明かり|ランタン|ろうそく", r"flashlight|torch|light"),
    ("生理用品", "sanitary items", r"生理用品|ナプキン", r"sanitary|pads|tampon"),
    ("マスク", "masks", r"マスク", r"\bmasks?\b"),
    ("着替え", "clothes", r"着替え|衣類|下着|タオル", r"clothes|clothing|towel"),
    ("ガソリン・燃料", "fuel", r"ガソリン|燃料|灯油", r"fuel|gasoline|petrol|kerosene"),
]
_SUPPLY_RE = [
    (ja, en, re.compile(text.search_key(p) + "|" + p), re.compile(e))
    for ja, en, p, e in SUPPLY_ITEMS
]

# What is out, for "where is ... ?" questions: (name ja, name en, words ja, words en).
OUTAGES: list[tuple[str, str, str, str]] = [
    (
        "停電",
        "power cuts",
        r"停電|電気が(来|き|つか|止)|でんき",
        r"power (cut|out|outage)|blackout|no power|no electricity",
    ),
    ("断水", "water cuts", r"断水|水道|水が出な", r"no water|water (is )?(cut|off|out)|tap water"),
    ("ガス", "gas", r"ガス", r"\bgas\b"),
    (
        "通信障害",
        "phone and internet",
        r"電話|携帯|スマホ|圏外|ネット|通信|電波",
        r"phone|signal|internet|network|wifi",
    ),
    (
        "鉄道・バス",
        "trains and buses",
        r"電車|運転見合わせ|運休|中央線|京王|バス|駅",
        r"train|railway|bus|line (is )?suspended",
    ),
    (
        "通行止め",
        "closed roads",
        r"通行止め|通れな|道路|冠水|陥没",
        r"road (is )?closed|closed road|blocked road|can't get through",
    ),
]
_OUTAGE_RE = [
    (ja, en, re.compile(text.search_key(p) + "|" + p), re.compile(e)) for ja, en, p, e in OUTAGES
]

# What a question asks about: its words, the categories of the posts that answer it.
INTENTS: list[tuple[str, str, str, tuple[str, ...]]] = [
    (
        "supplies",
        r"不足|足りな|たりな|ない[？?]|必要|欲し|ほし|困って",
        r"short|lack|need|missing|run(ning)? out",
        ("supplies_need",),
    ),
    (
        "outage",
        r"停電|断水|ガス|不通|止ま|通行止|運休|つながらな|繋がらな",
        r"power|outage|water cut|blackout|closed|suspended|no (power|water|signal)",
        ("infrastructure",),
    ),
    ("rescue", r"救助|助け|取り残|閉じ込|逃げ遅", r"rescue|trapped|help", ("rescue_request",)),
    ("shelter", r"避難所|避難|混雑|空いて", r"shelter|evacuat", ("shelter_evacuation",)),
    (
        "damage",
        r"被害|浸水|冠水|倒壊|火事|火災|崩れ|土砂|どう(なって|です)|状況",
        r"damage|flood|collapse|fire|landslide|situation|happening",
        ("damage_report",),
    ),
]
_INTENT_RE = [
    (name, re.compile(text.search_key(ja) + "|" + ja), re.compile(en), cats)
    for name, ja, en, cats in INTENTS
]
MAX_QUESTION = 200


@dataclass
class Answer:
    question: str
    intent: str  # supplies, outage, rescue, shelter, damage, search
    town: str | None
    answer_ja: str
    answer_en: str
    items: list[tuple[str, str, int]]  # (name ja, name en, how many posts)
    towns: list[tuple[str, int]]  # for "where" questions: town, how many posts
    evidence: list[SnsPost]


def answer(
    session: Session, question: str, places: Gazetteer, since: datetime | None = None
) -> Answer:
    """Answer a question such as 「大沢で何が不足している？」 or "Where is the power out?" from
    the classified posts, with the posts that say so as evidence."""
    question = (question or "").strip()
    if not question:
        raise ValidationProblem(
            "質問を入力してください / type a question",
            errors={"q": ["空です / empty"]},
        )
    if len(question) > MAX_QUESTION:
        raise ValidationProblem(
            "質問が長すぎます / the question is too long",
            errors={"q": [f"{MAX_QUESTION}文字まで / at most {MAX_QUESTION}"]},
        )
    words = clean(question)
    key = text.search_key(words)
    lower = text.normalize(words).lower()
    place = places.find(words, key, lower)
    town = base_town(place.town) if isinstance(place, Place) else None
    intent, categories = "search", tuple(c for c in CATEGORIES if c != "not_relevant")
    for name, ja, en, cats in _INTENT_RE:
        if ja.search(key) or ja.search(words) or en.search(lower):
            intent, categories = name, cats
            break
    query = select(SnsPost).where(
        SnsPost.duplicate_of.is_(None),
        SnsPost.category.in_(categories),
        SnsPost.outside.is_(False),
    )
    if town:
        query = query.where(SnsPost.town.startswith(town, autoescape=True))
    if since is not None:
        query = query.where(SnsPost.posted_at >= since)
    rows = list(session.scalars(query.order_by(SnsPost.posted_at.desc()).limit(2000)))
    if intent == "outage":
        return _answer_outage(question, town, key, lower, rows)
    if intent == "supplies":
        return _answer_supplies(question, town, rows)
    if intent == "search":
        rows = _matching(rows, key, lower, town)
    return _answer_posts(question, intent, town, rows)


def _matching(rows: list[SnsPost], key: str, lower: str, town: str | None) -> list[SnsPost]:
    """For a question of no known kind: posts that share its content words."""
    ask = {key[i : i + 2] for i in range(len(key) - 1)} - _QUESTION_GRAMS
    if town:
        ask -= {text.search_key(town)[i : i + 2] for i in range(len(town) - 1)}
    words = set(re.findall(r"[a-z]{4,}", lower)) - {"where", "what", "there", "which"}
    if not ask and not words:
        return []
    scored = []
    for row in rows:
        mine = _bigrams(row.text)
        hits = len(ask & mine) + sum(w in row.text.lower() for w in words) * 2
        if hits >= 2:
            scored.append((hits, row))
    scored.sort(key=lambda pair: (-pair[0], -_importance(pair[1])))
    return [row for _hits, row in scored]


_QUESTION_GRAMS = {
    "なに", "にが", "がふ", "して", "てい", "いる", "るの", "どこ", "です", "すか", "いま", "ので",
    "の?", "る?", "か?", "こ?", "は?", "こで", "では", "でな",
}  # fmt: skip


def _where(town: str | None) -> tuple[str, str]:
    return (f"{town}で", f" in {town_in_english(town)}") if town else ("市内で", " in the city")


def _answer_supplies(question: str, town: str | None, rows: list[SnsPost]) -> Answer:
    tally: Counter[tuple[str, str]] = Counter()
    evidence: dict[tuple[str, str], list[SnsPost]] = {}
    for row in rows:
        written = clean(row.text)
        key, lower = text.search_key(written), text.normalize(written).lower()
        for ja, en, ja_re, en_re in _SUPPLY_RE:
            if ja_re.search(key) or ja_re.search(written) or en_re.search(lower):
                tally[(ja, en)] += row.copies
                evidence.setdefault((ja, en), []).append(row)
    items = [(ja, en, n) for (ja, en), n in tally.most_common()]
    where_ja, where_en = _where(town)
    if items:
        listed_ja = "、".join(f"{ja}（{n}件）" for ja, _en, n in items[:6])
        listed_en = ", ".join(f"{en} ({n})" for _ja, en, n in items[:6])
        answer_ja = f"{where_ja}不足が報告されているもの：{listed_ja}。"
        answer_en = f"Reported short{where_en}: {listed_en}."
    elif rows:
        answer_ja = (
            f"{where_ja}物資の不足の投稿が{len(rows)}件ありますが、品目は読み取れませんでした。"
        )
        answer_en = f"{len(rows)} posts report shortages{where_en}, naming no item we know."
    else:
        answer_ja = f"{where_ja}物資の不足を伝える投稿はまだありません。"
        answer_en = f"No post reports a shortage{where_en} yet."
    shown: list[SnsPost] = []
    for ja, en, _n in items:
        for row in evidence[(ja, en)]:
            if row not in shown:
                shown.append(row)
                break
    shown += [r for r in sorted(rows, key=lambda r: -_importance(r)) if r not in shown]
    return Answer(question, "supplies", town, answer_ja, answer_en, items, [], shown[:10])


def _answer_outage(
    question: str, town: str | None, key: str, lower: str, rows: list[SnsPost]
) -> Answer:
    asked = [
        (ja, en, ja_re, en_re)
        for ja, en, ja_re, en_re in _OUTAGE_RE
        if ja_re.search(key) or en_re.search(lower)
    ] or [(ja, en, ja_re, en_re) for ja, en, ja_re, en_re in _OUTAGE_RE]
    names_ja = "・".join(a[0] for a in asked[:3])
    names_en = ", ".join(a[1] for a in asked[:3])
    matching = []
    for row in rows:
        written = clean(row.text)
        row_key, row_lower = text.search_key(written), text.normalize(written).lower()
        if any(
            a[2].search(row_key) or a[2].search(written) or a[3].search(row_lower) for a in asked
        ):
            matching.append(row)
    towns: Counter[str] = Counter()
    for row in matching:
        if row.town:
            towns[base_town(row.town)] += row.copies
    where_ja, where_en = _where(town)
    if towns and not town:
        listed = "、".join(f"{t}（{n}件）" for t, n in towns.most_common(8))
        answer_ja = f"{names_ja}の報告がある地域：{listed}。"
        answer_en = f"Areas with reports of {names_en}: " + ", ".join(
            f"{town_in_english(t)} ({n})" for t, n in towns.most_common(8)
        )
    elif matching:
        answer_ja = f"{where_ja}{names_ja}の報告が{len(matching)}件あります。"
        answer_en = f"{len(matching)} reports of {names_en}{where_en}."
    else:
        answer_ja = f"{where_ja}{names_ja}の報告はまだありません。"
        answer_en = f"No reports of {names_en}{where_en} yet."
    evidence = sorted(matching, key=lambda r: (-_importance(r), -r.posted_at.timestamp()))
    return Answer(
        question, "outage", town, answer_ja, answer_en, [], towns.most_common(), evidence[:10]
    )


_INTENT_NAMES = {
    "rescue": ("救助を求める投稿", "calls for rescue"),
    "shelter": ("避難・避難所についての投稿", "posts about evacuation and shelters"),
    "damage": ("被害の報告", "damage reports"),
    "search": ("関係する投稿", "related posts"),
}


def _answer_posts(question: str, intent: str, town: str | None, rows: list[SnsPost]) -> Answer:
    name_ja, name_en = _INTENT_NAMES[intent]
    where_ja, where_en = _where(town)
    towns: Counter[str] = Counter(base_town(r.town) for r in rows if r.town)
    if rows:
        answer_ja = f"{where_ja}{name_ja}が{len(rows)}件あります。"
        answer_en = f"{len(rows)} {name_en}{where_en}."
        if not town and towns:
            answer_ja += (
                "多い地域：" + "、".join(f"{t}（{n}件）" for t, n in towns.most_common(5)) + "。"
            )
            answer_en += (
                " Most in: "
                + ", ".join(f"{town_in_english(t)} ({n})" for t, n in towns.most_common(5))
                + "."
            )
    else:
        answer_ja = f"{where_ja}{name_ja}はまだありません。"
        answer_en = f"No {name_en}{where_en} yet."
    evidence = sorted(rows, key=lambda r: (-_importance(r), -r.posted_at.timestamp()))
    return Answer(
        question, intent, town, answer_ja, answer_en, [], towns.most_common(), evidence[:10]
    )


def window(
    since: datetime | None, until: datetime | None, hours: int = 24
) -> tuple[datetime, datetime]:
    """A time window: as given, or the last ``hours`` up to ``until`` (default now). Times
    without a zone are Japan time. A window that ends before it starts holds nothing."""
    end = _aware(until) if until else utcnow() + timedelta(minutes=1)
    start = _aware(since) if since else end - timedelta(hours=hours)
    return start, end


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=text.TOKYO)


def post_dict(row: SnsPost) -> dict[str, Any]:
    """A stored post as the API shows it (the poster only as its salted hash)."""
    return {
        "id": row.id,
        "post_id": row.post_id,
        "text": row.text,
        "posted_at": row.posted_at.isoformat(),
        "received_at": row.received_at.isoformat(),
        "source": row.source,
        "poster": row.poster_hash or None,
        "lang": row.lang,
        "category": row.category,
        "urgency": row.urgency,
        "hazard": row.hazard,
        "town": row.town,
        "lat": row.lat,
        "lon": row.lon,
        "outside": row.outside,
        "copies": row.copies,
        "duplicate_of": row.duplicate_of,
        "explanation": row.explanation,
        "mark": row.mark,
        "marked_by": row.marked_by or None,
        "marked_at": row.marked_at.isoformat() if row.marked_at else None,
    }


def summary_dict(area: AreaSummary) -> dict[str, Any]:
    return {
        "town": area.town,
        "counts": area.counts,
        "posts": area.posts,
        "need": area.need,
        "level": area.level,
        "lat": area.lat,
        "lon": area.lon,
        "summary_ja": area.summary_ja,
        "summary_en": area.summary_en,
        "representatives": [post_dict(row) for row in area.representatives],
    }


def answer_dict(found: Answer) -> dict[str, Any]:
    return {
        "question": found.question,
        "intent": found.intent,
        "town": found.town,
        "answer_ja": found.answer_ja,
        "answer_en": found.answer_en,
        "items": [{"name_ja": ja, "name_en": en, "posts": n} for ja, en, n in found.items],
        "towns": [{"town": town, "posts": n} for town, n in found.towns],
        "evidence": [post_dict(row) for row in found.evidence],
    }
