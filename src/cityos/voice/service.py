"""The citizens' voice: analysing batches of texts (sentiment and topic of each), and what
is kept of it: consultations (パブリックコメント) with their opinions, supports and
moderation, imported inquiries and SNS posts, and the analysis every page and export reads.

A bad line of an import never stops the others: it is reported with its number and the
reason, and the good lines go on. The batch analysis (:func:`analyze`) needs no database.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cityos.core import audit, csvexport, encodings, jsonlines, tokens
from cityos.core import text as jtext
from cityos.core.errors import ConflictProblem, NotFoundProblem, ValidationProblem
from cityos.core.models import User
from cityos.core.uploads import FILE_MAGIC
from cityos.db import utcnow
from cityos.voice import analysis, moderation, topics
from cityos.voice.models import (
    OPINION_STATES,
    SOURCES,
    Consultation,
    ConsultationDocument,
    ModerationAction,
    Opinion,
    Support,
    VoiceText,
)

READ_PERMISSION = "voice.read"
MANAGE_PERMISSION = "voice.manage"
SOURCE_LABELS = {
    "opinion": ("意見", "Opinion"),
    "inquiry": ("問い合わせ", "Inquiry"),
    "sns": ("SNS投稿", "SNS post"),
    "survey": ("アンケート自由記述", "Survey free text"),
}
SENTIMENT_LABELS = {
    "positive": ("肯定的", "Positive"),
    "negative": ("否定的", "Negative"),
    "neutral": ("中立", "Neutral"),
}
STATE_LABELS = {
    "pending": ("確認待ち", "Waiting for review"),
    "published": ("公開", "Published"),
    "hidden": ("非公開", "Hidden"),
}
PHASE_LABELS = {
    "upcoming": ("募集前", "Not open yet"),
    "open": ("募集中", "Open for opinions"),
    "closed": ("募集終了", "Closed"),
}
MAX_OPINION_CHARS = 4000
MAX_NICKNAME_CHARS = 40
MAX_REASON_CHARS = 500
#: Topics are grouped again over every stored text at most this many (the newest): above
#: it the grouping is a batch job (``cityos voice import`` / ``analyze``), not a page click.
REGROUP_LIMIT = 20_000

Text = jsonlines.Record
Problem = jsonlines.Problem


def read_texts(lines: Iterable[bytes]) -> tuple[list[Text], list[Problem]]:
    """Every good text of ``lines`` (one JSON object a line with id and text), and what was
    wrong with the rest."""
    return jsonlines.read_records(lines)


def analyze(
    texts: list[Text], progress: Callable[[int], None] | None = None
) -> list[dict[str, Any]]:
    """Each text's object with ``sentiment``, ``sentiment_score`` and ``topic`` added; the
    topics are found over the whole batch."""
    rows: list[dict[str, Any]] = []
    words_of = []
    for item in texts:
        words = tokens.words(item.text)
        words_of.append(words)
        rows.append({**item.data, **analysis.sentiment_of(item.text, words).as_dict()})
        if progress is not None:
            progress(1)
    for row, topic in zip(rows, topics.find_topics(words_of), strict=True):
        row["topic"] = topic
    return rows


# --- the database: consultations, opinions, moderation, imports, analysis -----------------


def _clean(
    value: str, limit: int, field_name: str, label: tuple[str, str], *, required: bool = True
) -> str:
    cleaned = jtext.normalize(value or "").strip()
    if required and not cleaned:
        raise ValidationProblem(
            f"{label[0]}を入力してください / {label[1]} is required",
            errors={field_name: ["必須です / required"]},
        )
    if len(cleaned) > limit:
        raise ValidationProblem(
            f"{label[0]}は{limit}文字までです / {label[1]} is limited to {limit} characters",
            errors={field_name: [f"{limit}文字までです / at most {limit} characters"]},
        )
    return cleaned


def phase(consultation: Consultation, now: datetime | None = None) -> str:
    """upcoming, open or closed: where the consultation stands in its period."""
    now = now or utcnow()
    if now < consultation.opens_at:
        return "upcoming"
    return "open" if now < consultation.closes_at else "closed"


def create_consultation(
    session: Session,
    user: User,
    *,
    title: str,
    description: str,
    opens_at: datetime,
    closes_at: datetime,
    sample: bool = False,
) -> Consultation:
    """A new consultation; its documents are added with :func:`add_document`."""
    title = _clean(title, 200, "title", ("題名", "the title"))
    description = _clean(description, 20_000, "description", ("説明", "the description"))
    if closes_at <= opens_at:
        raise ValidationProblem(
            "募集の終了は開始より後にしてください / the period must end after it starts",
            errors={"closes_at": ["開始より後にしてください / must be after the start"]},
        )
    consultation = Consultation(
        title=title,
        description=description,
        opens_at=opens_at,
        closes_at=closes_at,
        sample=sample,
        created_by=user.name,
    )
    session.add(consultation)
    session.flush()
    audit.record(session, user, "voice.consultation.create", "voice_consultation",
                 str(consultation.id), summary=title)  # fmt: skip
    return consultation


DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
_DOCUMENT_MAGIC = FILE_MAGIC


def document_type(filename: str, head: bytes) -> str:
    """The media type of an uploaded document, checked against its first bytes."""
    suffix = Path(filename).suffix.lower()
    media = DOCUMENT_TYPES.get(suffix)
    allowed = ", ".join(sorted(DOCUMENT_TYPES))
    if media is None:
        raise ValidationProblem(
            f"添付できるのは {allowed} のファイルです / documents must be one of {allowed}",
            errors={"file": ["unsupported type"]},
        )
    magic = _DOCUMENT_MAGIC.get(media)
    if magic is not None and not head.startswith(magic):
        raise ValidationProblem(
            f"ファイルの中身が {suffix} ではありません / the file is not really a {suffix} file",
            errors={"file": ["content does not match the name"]},
        )
    if magic is None and b"\x00" in head:
        raise ValidationProblem(
            "テキストファイルではありません / not a text file", errors={"file": ["binary"]}
        )
    return media


def add_document(
    session: Session,
    user: User,
    consultation: Consultation,
    *,
    title: str,
    url: str = "",
    sha256: str = "",
    filename: str = "",
    media_type: str = "",
    size: int = 0,
) -> ConsultationDocument:
    """A document of the consultation: a link (http/https) or a stored file."""
    url = url.strip()
    if not url and not sha256:
        raise ValidationProblem(
            "ファイルかリンクを指定してください / give a file or a link",
            errors={"url": ["required without a file"]},
        )
    if url and not re.match(r"^https?://[^\s/]+", url):
        raise ValidationProblem(
            "リンクは http:// か https:// で始めてください / a link must start with http(s)://",
            errors={"url": ["not an http(s) link"]},
        )
    title = _clean(title or filename or url, 200, "document_title", ("資料名", "the title"))
    document = ConsultationDocument(
        consultation_id=consultation.id, title=title, url=url[:1000], sha256=sha256,
        filename=Path(filename).name[:200], media_type=media_type, size=size,
    )  # fmt: skip
    session.add(document)
    session.flush()
    audit.record(session, user, "voice.document.add", "voice_consultation",
                 str(consultation.id), summary=title)  # fmt: skip
    return document


def get_consultation(session: Session, consultation_id: int) -> Consultation:
    found = session.get(Consultation, consultation_id)
    if found is None:
        raise NotFoundProblem(
            f"意見募集 {consultation_id} はありません / no consultation {consultation_id}"
        )
    return found


def get_document(session: Session, consultation_id: int, document_id: int) -> ConsultationDocument:
    document = session.get(ConsultationDocument, document_id)
    if document is None or document.consultation_id != consultation_id or not document.sha256:
        raise NotFoundProblem("資料が見つかりません / no such document")
    return document


def consultations(session: Session) -> list[Consultation]:
    return list(session.scalars(select(Consultation).order_by(Consultation.closes_at.desc())))


def set_response(session: Session, user: User, consultation: Consultation, response: str) -> None:
    """The city's answer to the opinions, shown on the results page."""
    consultation.response = _clean(response, 20_000, "response", ("市の考え方", "the response"),
                                   required=False)  # fmt: skip
    consultation.updated_at = utcnow()
    audit.record(session, user, "voice.consultation.respond", "voice_consultation",
                 str(consultation.id), summary=consultation.response[:200])  # fmt: skip


def city_towns(city: str) -> list[str]:
    """The 町名 a resident may give with an opinion (optional)."""
    from cityos.disaster import service as disaster

    return disaster.city_towns(city)


def post_opinion(
    session: Session,
    consultation: Consultation,
    *,
    text: str,
    nickname: str = "",
    town: str = "",
    towns: Sequence[str] = (),
    now: datetime | None = None,
    regroup: bool = True,
    written_at: datetime | None = None,
) -> Opinion:
    """A resident's opinion: checked for personal information and abuse, masked, and then
    published at once when nothing was found, else kept for staff."""
    state = phase(consultation, now)
    if state != "open":
        when = "まだ始まっていません / has not started yet" if state == "upcoming" else (
            "終了しました / has closed")  # fmt: skip
        raise ConflictProblem(
            f"この意見募集は{when.split(' / ')[0]} / this consultation {when.split(' / ')[1]}",
            errors={"consultation": [state]},
        )
    written = _clean(text, MAX_OPINION_CHARS, "text", ("ご意見", "the opinion"))
    nickname = _clean(nickname, MAX_NICKNAME_CHARS, "nickname", ("お名前", "the nickname"),
                      required=False)  # fmt: skip
    town = jtext.normalize(town or "").strip()
    if town and town not in towns:
        raise ValidationProblem(
            f"町名 {town!r} は市内にありません / {town!r} is not a town of the city",
            errors={"town": ["unknown town"]},
        )
    checked = moderation.check(written)
    name_check = moderation.check(nickname) if nickname else None
    findings = [f.as_dict() for f in checked.findings]
    if name_check is not None and name_check.flagged:
        findings += [{**f.as_dict(), "in": "nickname"} for f in name_check.findings]
    opinion = Opinion(
        consultation_id=consultation.id,
        nickname=nickname,
        town=town,
        text=written,
        published_text=checked.published,
        findings=findings,
        status="pending",
        created_at=written_at or utcnow(),
    )
    session.add(opinion)
    session.flush()
    if not findings:
        _publish(session, opinion, "自動確認で問題なし / automatic check found nothing", "auto",
                 regroup=regroup)  # fmt: skip
    return opinion


def published_nickname(opinion: Opinion) -> str:
    if any(f.get("in") == "nickname" for f in opinion.findings):
        return moderation.MASK
    return opinion.nickname


def _publish(
    session: Session, opinion: Opinion, reason: str, by: str, *, regroup: bool = True
) -> None:
    opinion.status = "published"
    opinion.reason = reason
    opinion.moderated_by = by
    opinion.moderated_at = utcnow()
    session.add(ModerationAction(opinion_id=opinion.id, action="published", reason=reason,
                                 user_name=by))  # fmt: skip
    store_texts(
        session,
        "opinion",
        [ImportRow(0, str(opinion.id), opinion.published_text, opinion.town, opinion.created_at)],
        consultation_id=opinion.consultation_id,
        sample=opinion.consultation.sample,
        regroup=False,
    )
    if regroup:
        # One new opinion joins the topic whose key words it shares most: grouping every
        # stored text again is the imports' work, not a resident's wait.
        text = session.scalars(
            select(VoiceText).where(VoiceText.source == "opinion", VoiceText.ref == str(opinion.id))
        ).one()
        text.topic = nearest_topic(session, text.words.split())


def moderation_queue(session: Session, *, status: str = "pending") -> list[Opinion]:
    if status not in OPINION_STATES:
        raise ValidationProblem(
            "状態が不正です / unknown state", errors={"status": list(OPINION_STATES)}
        )
    query = select(Opinion).where(Opinion.status == status).order_by(Opinion.created_at)
    return list(session.scalars(query.limit(500)))


def get_opinion(session: Session, opinion_id: int) -> Opinion:
    found = session.get(Opinion, opinion_id)
    if found is None:
        raise NotFoundProblem(f"意見 {opinion_id} はありません / no opinion {opinion_id}")
    return found


def moderate(session: Session, user: User, opinion: Opinion, action: str, reason: str) -> None:
    """Staff publish (the masked text) or hide an opinion, saying why; kept in the history
    and the audit log. A hidden opinion leaves the analysis."""
    if action not in ("publish", "hide"):
        raise ValidationProblem(
            "操作は publish か hide です / the action is publish or hide",
            errors={"action": ["publish or hide"]},
        )
    reason = _clean(reason, MAX_REASON_CHARS, "reason", ("理由", "a reason"))
    if action == "publish":
        _publish(session, opinion, reason, user.name)
    else:
        opinion.status = "hidden"
        opinion.reason = reason
        opinion.moderated_by = user.name
        opinion.moderated_at = utcnow()
        session.add(ModerationAction(opinion_id=opinion.id, action="hidden", reason=reason,
                                     user_name=user.name))  # fmt: skip
        session.execute(
            delete(VoiceText).where(VoiceText.source == "opinion",
                                    VoiceText.ref == str(opinion.id))
        )  # fmt: skip
    audit.record(session, user, f"voice.opinion.{action}", "voice_opinion", str(opinion.id),
                 summary=reason)  # fmt: skip


def history(session: Session, opinion: Opinion) -> list[ModerationAction]:
    query = select(ModerationAction).where(ModerationAction.opinion_id == opinion.id)
    return list(session.scalars(query.order_by(ModerationAction.id)))


def browser_hash(secret: str, browser_key: str) -> str:
    return hashlib.sha256(f"{secret}:voice-support:{browser_key}".encode()).hexdigest()


def support(session: Session, opinion: Opinion, browser: str) -> bool:
    """One browser's 賛同: True when counted, False when this browser had already supported."""
    if opinion.status != "published":
        raise NotFoundProblem(f"意見 {opinion.id} は公開されていません / not published")
    if phase(opinion.consultation) != "open":
        raise ConflictProblem(
            "募集期間外のため賛同できません / supports are taken only while the consultation is open"
        )
    exists = session.scalar(
        select(Support.id).where(Support.opinion_id == opinion.id, Support.browser_hash == browser)
    )
    if exists is not None:
        return False
    session.add(Support(opinion_id=opinion.id, browser_hash=browser))
    session.flush()
    opinion.supports = (
        session.scalar(
            select(func.count()).select_from(Support).where(Support.opinion_id == opinion.id)
        )
        or 0
    )
    return True


def supported_by(session: Session, consultation: Consultation, browser: str) -> set[int]:
    query = (
        select(Support.opinion_id)
        .join(Opinion, Opinion.id == Support.opinion_id)
        .where(Opinion.consultation_id == consultation.id, Support.browser_hash == browser)
    )
    return set(session.scalars(query))


def published_opinions(
    session: Session, consultation: Consultation, *, order: str = "new"
) -> list[Opinion]:
    query = select(Opinion).where(
        Opinion.consultation_id == consultation.id, Opinion.status == "published"
    )
    if order == "support":
        query = query.order_by(Opinion.supports.desc(), Opinion.id)
    else:
        query = query.order_by(Opinion.created_at.desc(), Opinion.id.desc())
    return list(session.scalars(query))


def opinion_counts(session: Session, consultation: Consultation) -> dict[str, int]:
    rows = session.execute(
        select(Opinion.status, func.count())
        .where(Opinion.consultation_id == consultation.id)
        .group_by(Opinion.status)
    )
    counts = dict.fromkeys(OPINION_STATES, 0)
    counts.update({state: int(count) for state, count in rows})
    counts["total"] = sum(counts[s] for s in OPINION_STATES)
    return counts


# --- analysed texts: storing, importing, grouping ------------------------------------------


@dataclass
class ImportRow:
    line: int
    ref: str
    text: str
    town: str = ""
    said_at: datetime | None = None


@dataclass
class ImportReport:
    source: str
    stored: int = 0
    updated: int = 0
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "stored": self.stored,
            "updated": self.updated,
            "problems": [{"line": p.line, "reason": p.reason} for p in self.problems],
        }


def store_texts(
    session: Session,
    source: str,
    rows: Sequence[ImportRow],
    *,
    consultation_id: int | None = None,
    sample: bool = False,
    regroup: bool = True,
) -> ImportReport:
    """Analyse and keep ``rows`` (a row already kept under the same source and id is
    replaced); the topics of every stored text are then grouped again."""
    if source not in SOURCES:
        raise ValidationProblem(
            f"source は {', '.join(SOURCES)} のいずれかです / source must be one of {SOURCES}",
            errors={"source": list(SOURCES)},
        )
    report = ImportReport(source)
    now = utcnow()
    existing: dict[str, VoiceText] = {}
    refs = [row.ref for row in rows]
    for start in range(0, len(refs), 500):
        query = select(VoiceText).where(
            VoiceText.source == source, VoiceText.ref.in_(refs[start : start + 500])
        )
        existing.update((row.ref, row) for row in session.scalars(query))
    for row in rows:
        words = tokens.words(row.text)
        feeling = analysis.sentiment_of(row.text, words)
        target = existing.get(row.ref)
        if target is None:
            target = VoiceText(source=source, ref=row.ref)
            session.add(target)
            existing[row.ref] = target
            report.stored += 1
        else:
            report.updated += 1
        target.consultation_id = consultation_id
        target.text = row.text
        target.town = row.town
        target.said_at = row.said_at or now
        target.imported_at = now
        target.sentiment = feeling.sentiment
        target.score = feeling.score
        target.words = " ".join(topics.content_words(words))
        target.topic = target.topic or topics.NO_TOPIC
        target.sample = sample
    session.flush()
    if regroup:
        regroup_topics(session)
    return report


def nearest_topic(session: Session, words: Sequence[str]) -> str:
    """The stored topic whose label words the text says most (その他 when none)."""
    said = {jtext.search_key(word) for word in words}
    best, best_score = topics.NO_TOPIC, 0
    for label in session.scalars(select(VoiceText.topic).distinct()):
        score = sum(1 for word in label.split("・") if jtext.search_key(word) in said)
        if label != topics.NO_TOPIC and (score, label) > (best_score, best):
            best, best_score = label, score
    return best if best_score > 0 else topics.NO_TOPIC


def regroup_topics(session: Session) -> int:
    """Group the stored texts (the newest :data:`REGROUP_LIMIT`) into topics again; answers
    how many texts were grouped."""
    query = (
        select(VoiceText.id, VoiceText.words)
        .order_by(VoiceText.said_at.desc(), VoiceText.id.desc())
        .limit(REGROUP_LIMIT)
    )
    found = session.execute(query).all()
    labels = topics.topics_of_documents([words.split() for _id, words in found])
    by_label: dict[str, list[int]] = defaultdict(list)
    for (text_id, _words), label in zip(found, labels, strict=True):
        by_label[label].append(text_id)
    from sqlalchemy import update

    for label, ids in by_label.items():
        for start in range(0, len(ids), 500):
            session.execute(
                update(VoiceText).where(VoiceText.id.in_(ids[start : start + 500]))
                .values(topic=label[:200])
            )  # fmt: skip
    return len(found)


_ID_HEADERS = ("id", "no", "番号", "受付番号", "問い合わせ番号", "投稿id", "post_id", "管理番号")
_TEXT_HEADERS = ("text", "本文", "内容", "問い合わせ内容", "お問い合わせ内容", "意見", "ご意見",
                 "投稿", "投稿内容", "body", "message", "content")  # fmt: skip
_TOWN_HEADERS = ("town", "町名", "地域", "地区", "住所", "area")
_TIME_HEADERS = ("created_at", "date", "datetime", "日時", "日付", "受付日", "受付日時",
                 "投稿日時", "作成日時", "time", "posted_at")  # fmt: skip


def _column(header: list[str], names: Sequence[str]) -> int | None:
    keys = [jtext.search_key(cell) for cell in header]
    for name in names:
        key = jtext.search_key(name)
        if key in keys:
            return keys.index(key)
    return None


def parse_when(value: str) -> datetime:
    """A time as written in a file: ISO 8601, 2026/10/01 10:00, 令和8年10月1日 (Japan time
    unless the text says otherwise)."""
    value = jtext.normalize(value).strip()
    try:
        moment = datetime.fromisoformat(value.replace("/", "-").replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None:
        day = jtext.parse_date(value.split(" ")[0])
        clock = time(0, 0)
        if " " in value:
            clock = jtext.parse_time(value.split(" ", 1)[1])
        moment = datetime.combine(day, clock)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=jtext.TOKYO)
    return moment.astimezone(UTC)


def _row_town(value: str, towns: Sequence[str]) -> str:
    """The 町名 of a row's town or address column ("" when not in the city)."""
    written = jtext.normalize(value).strip()
    if not written:
        return ""
    for town in sorted(towns, key=len, reverse=True):
        if town in written:
            return town
    raise ValueError(f"町名 {written[:40]!r} は市内にありません / not a town of the city")


def _make_row(line: int, ref: str, written: str, town: str, when: str, towns: Sequence[str],
              seen: dict[str, int]) -> ImportRow | Problem:  # fmt: skip
    written = (written or "").strip()
    if not written:
        return Problem(line, "本文が空です / the text is empty")
    if len(written) > jsonlines.MAX_TEXT_CHARS:
        return Problem(
            line, f"本文が長すぎます / the text is over {jsonlines.MAX_TEXT_CHARS:,} characters"
        )
    ref = (ref or "").strip() or "sha:" + hashlib.sha256(written.encode()).hexdigest()[:32]
    if len(ref) > 200:
        return Problem(line, "id が長すぎます / the id is over 200 characters")
    if ref in seen:
        return Problem(line, f"id {ref!r} が重複しています（{seen[ref]}行目） / duplicate id")
    try:
        place = _row_town(town, towns)
        moment = parse_when(when) if when.strip() else None
    except ValueError as exc:
        reason = str(exc) if " / " in str(exc) else (
            f"日時が読めません / not a date-time: {when[:40]!r}")  # fmt: skip
        return Problem(line, reason)
    seen[ref] = line
    return ImportRow(line, ref, jtext.normalize(written), place, moment)


def read_import(
    path: Path, towns: Sequence[str], encoding: str = ""
) -> tuple[list[ImportRow], list[Problem]]:
    """The rows of an import file — JSON lines (``id``, ``text``, optional ``town`` and
    ``created_at``) or a CSV with a header naming the columns (本文/text, 番号/id, 町名/town,
    日時/created_at; encoding detected) — and each bad line's reason."""
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{") or path.suffix.lower() in (".jsonl", ".ndjson"):
        return _read_json_lines(path, towns)
    return _read_csv(path, towns, encoding)


def _read_json_lines(path: Path, towns: Sequence[str]) -> tuple[list[ImportRow], list[Problem]]:
    records, problems = jsonlines.read_records(jsonlines.input_lines(path))
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    for record in records:
        data = record.data
        town, when = data.get("town") or "", data.get("created_at") or ""
        if not isinstance(town, str) or not isinstance(when, str):
            problems.append(Problem(record.line, "town と created_at は文字列です / town and "
                                                 "created_at must be strings"))  # fmt: skip
            continue
        made = _make_row(record.line, record.id, record.text, town, when, towns, seen)
        (rows if isinstance(made, ImportRow) else problems).append(made)  # type: ignore[arg-type]
    problems.sort(key=lambda p: p.line)
    return rows, problems


def _read_csv(
    path: Path, towns: Sequence[str], encoding: str
) -> tuple[list[ImportRow], list[Problem]]:
    found, _ambiguous = encodings.detect_encoding(path, encoding or None)
    lines = encodings.decoded_lines(path, found)
    reader = csv.reader(lines)
    rows: list[ImportRow] = []
    problems: list[Problem] = []
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationProblem("ファイルが空です / the file is empty") from None
    text_at = _column(header, _TEXT_HEADERS)
    if text_at is None:
        if len(header) != 1:
            names = "、".join(_TEXT_HEADERS[:4])
            raise ValidationProblem(
                f"本文の列が見つかりません（見出しに {names} など） / no text column: name it "
                "text (or 本文, 内容) in the header row",
                errors={"file": ["no text column"]},
            )
        # One column and no header: every line is a text.
        text_at, header_line = 0, False
    else:
        header_line = True
    id_at = _column(header, _ID_HEADERS) if header_line else None
    town_at = _column(header, _TOWN_HEADERS) if header_line else None
    time_at = _column(header, _TIME_HEADERS) if header_line else None
    seen: dict[str, int] = {}

    def cell(cells: list[str], at: int | None) -> str:
        return cells[at] if at is not None and at < len(cells) else ""

    numbered = ((reader.line_num, cells) for cells in reader)
    first = [] if header_line else [(1, header)]
    import itertools

    for line, cells in itertools.chain(first, numbered):
        if not any(c.strip() for c in cells):
            continue
        if text_at >= len(cells):
            problems.append(Problem(line, "本文の列がありません / the row has no text column"))
            continue
        made = _make_row(line, cell(cells, id_at), cells[text_at], cell(cells, town_at),
                         cell(cells, time_at), towns, seen)  # fmt: skip
        (rows if isinstance(made, ImportRow) else problems).append(made)  # type: ignore[arg-type]
    return rows, problems


def import_file(
    session: Session, user: User | None, source: str, path: Path, towns: Sequence[str],
    *, encoding: str = "", sample: bool = False, via: str = "web",
) -> ImportReport:  # fmt: skip
    """Read, analyse and keep an import file's good rows; the bad ones are in the report."""
    if source not in ("inquiry", "sns"):
        raise ValidationProblem(
            "取り込めるのは inquiry（問い合わせ）か sns です / source must be inquiry or sns",
            errors={"source": ["inquiry or sns"]},
        )
    rows, problems = read_import(path, towns, encoding)
    report = store_texts(session, source, rows, sample=sample)
    report.problems = problems
    audit.record(session, user, "voice.import", "voice_texts", source, via=via,
                 summary=f"{report.stored} new, {report.updated} updated, "
                         f"{len(problems)} bad lines")  # fmt: skip
    return report


def pull_sns(session: Session, user: User | None, *, via: str = "web") -> ImportReport:
    """The SNS posts the sns domain already keeps (originals, not retweets), into the
    analysis under their post ids."""
    from cityos.sns.models import SnsPost
    from cityos.sns.service import base_town

    query = select(SnsPost).where(SnsPost.duplicate_of.is_(None)).order_by(SnsPost.posted_at)
    rows = [
        ImportRow(0, post.post_id, post.text, base_town(post.town), post.posted_at)
        for post in session.scalars(query)
    ]
    report = store_texts(session, "sns", rows)
    audit.record(session, user, "voice.import", "voice_texts", "sns", via=via,
                 summary=f"{report.stored} new, {report.updated} updated from the SNS domain")  # fmt: skip
    return report


# --- what the analysis pages, the API and the export read ----------------------------------


_FIRST_DAY = date(1900, 1, 1)
_LAST_DAY = date(9998, 12, 31)


@dataclass
class VoiceFilter:
    source: str = ""  # "" for every source
    town: str = ""
    since: date | None = None  # Japan dates, both included
    until: date | None = None
    consultation_id: int | None = None
    topic: str = ""

    def check(self) -> VoiceFilter:
        errors: dict[str, list[str]] = {}
        if self.source and self.source not in SOURCES:
            errors["source"] = [f"{', '.join(SOURCES)} のいずれかです / one of {SOURCES}"]
        if self.since and self.until and self.until < self.since:
            errors["until"] = ["開始日より後にしてください / must not be before since"]
        if errors:
            raise ValidationProblem("条件が不正です / invalid filter", errors=errors)
        return self

    def query(self) -> Any:
        query = select(VoiceText)
        if self.source:
            query = query.where(VoiceText.source == self.source)
        if self.town:
            query = query.where(VoiceText.town == self.town)
        # Days beyond any stored text are the same as no bound (and keep clear of the
        # calendar's ends, where a day in Japan is not a day in UTC).
        if self.since and self.since > _FIRST_DAY:
            start = datetime.combine(self.since, time(0), jtext.TOKYO)
            query = query.where(VoiceText.said_at >= start)
        if self.until and self.until < _LAST_DAY:
            end = datetime.combine(self.until + timedelta(days=1), time(0), jtext.TOKYO)
            query = query.where(VoiceText.said_at < end)
        if self.consultation_id is not None:
            query = query.where(VoiceText.consultation_id == self.consultation_id)
        if self.topic:
            query = query.where(VoiceText.topic == self.topic)
        return query


def texts(session: Session, where: VoiceFilter, limit: int | None = None) -> list[VoiceText]:
    query = where.query().order_by(VoiceText.said_at.desc(), VoiceText.id.desc())
    return list(session.scalars(query.limit(limit) if limit else query))


@dataclass
class TopicSummary:
    label: str
    words: list[str]
    size: int
    sentiments: dict[str, int]
    trend: list[tuple[str, int]]  # (period, texts)
    quotes: list[VoiceText]

    def share(self, sentiment: str) -> float:
        return self.sentiments.get(sentiment, 0) / self.size if self.size else 0.0


@dataclass
class Summary:
    total: int
    sentiments: dict[str, int]
    topics: list[TopicSummary]
    periods: list[str]
    by_source: dict[str, int]
    towns: list[str]

    def share(self, sentiment: str) -> float:
        return self.sentiments.get(sentiment, 0) / self.total if self.total else 0.0


def _periods(moments: list[datetime]) -> tuple[Callable[[datetime], str], list[str]]:
    """Buckets for a trend: days over a month or less, weeks up to half a year, else months."""
    if not moments:
        return (lambda _m: ""), []
    first = jtext.to_local(min(moments)).date()
    last = jtext.to_local(max(moments)).date()
    span = (last - first).days
    if span <= 31:

        def bucket(m: datetime) -> str:
            return jtext.to_local(m).strftime("%m/%d")

        days = [first + timedelta(days=i) for i in range(span + 1)]
        return bucket, [d.strftime("%m/%d") for d in days]
    if span <= 183:

        def week(m: datetime) -> str:
            d = jtext.to_local(m).date()
            return (d - timedelta(days=d.weekday())).strftime("%m/%d")

        start = first - timedelta(days=first.weekday())
        return week, [(start + timedelta(weeks=i)).strftime("%m/%d")
                      for i in range(span // 7 + 2) if start + timedelta(weeks=i) <= last]  # fmt: skip
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return (lambda m: jtext.to_local(m).strftime("%Y-%m")), months


def _quotes(members: list[VoiceText], words: list[str], count: int = 3) -> list[VoiceText]:
    """The texts that say the topic's key words most plainly: most key words, of a readable
    length, one per distinct wording."""

    def rank(row: VoiceText) -> tuple[int, int, int]:
        kept = set(row.words.split())
        length = len(row.text)
        return (-sum(1 for w in words if w in kept), abs(length - 60) // 20, row.id)

    chosen: list[VoiceText] = []
    seen: set[str] = set()
    for row in sorted(members, key=rank):
        key = jtext.search_key(row.text)[:40]
        if key in seen:
            continue
        seen.add(key)
        chosen.append(row)
        if len(chosen) == count:
            break
    return chosen


_REGROUPED: dict[str, list[str]] = {}
_REGROUPED_KEEP = 64
_REGROUPED_LOCK = threading.Lock()


def _regrouped(documents: list[list[str]]) -> list[str]:
    """Topic labels of these documents, remembered by their content: a closed consultation's
    results page is read by many residents, and grouping is deterministic (seeded), so only
    a change in the published opinions groups them again."""
    digest = hashlib.sha256("\n".join(" ".join(words) for words in documents).encode()).hexdigest()
    with _REGROUPED_LOCK:
        known = _REGROUPED.get(digest)
    if known is not None:
        return list(known)
    labels = topics.topics_of_documents(documents)
    with _REGROUPED_LOCK:
        if len(_REGROUPED) >= _REGROUPED_KEEP:
            _REGROUPED.pop(next(iter(_REGROUPED)))
        _REGROUPED[digest] = labels
    return list(labels)


def summarize(rows: Sequence[VoiceText], *, regroup: bool = False) -> Summary:
    """Sentiment overall and per topic, each topic's size, trend and quotes. With
    ``regroup`` the topics are found among ``rows`` themselves (a consultation's results)
    rather than read from the stored grouping of every text."""
    labels = (
        _regrouped([row.words.split() for row in rows])
        if regroup else [row.topic or topics.NO_TOPIC for row in rows]
    )  # fmt: skip
    bucket, periods = _periods([row.said_at for row in rows])
    groups: dict[str, list[VoiceText]] = defaultdict(list)
    for row, label in zip(rows, labels, strict=True):
        groups[label].append(row)
    found = []
    for label, members in groups.items():
        per_period = Counter(bucket(row.said_at) for row in members)
        words = [] if label == topics.NO_TOPIC else label.split("・")
        found.append(TopicSummary(
            label=label,
            words=words,
            size=len(members),
            sentiments=dict(Counter(row.sentiment for row in members)),
            trend=[(period, per_period.get(period, 0)) for period in periods],
            quotes=_quotes(members, words),
        ))  # fmt: skip
    # The biggest first; "その他" (texts without a topic) last.
    found.sort(key=lambda t: (t.label == topics.NO_TOPIC, -t.size, t.label))
    return Summary(
        total=len(rows),
        sentiments=dict(Counter(row.sentiment for row in rows)),
        topics=found,
        periods=periods,
        by_source=dict(Counter(row.source for row in rows)),
        towns=sorted({row.town for row in rows if row.town}),
    )


def summary_dict(found: Summary) -> dict[str, Any]:
    return {
        "total": found.total,
        "sentiments": {name: found.sentiments.get(name, 0) for name in analysis.SENTIMENTS},
        "sources": found.by_source,
        "periods": found.periods,
        "topics": [
            {
                "label": topic.label,
                "words": topic.words,
                "size": topic.size,
                "sentiments": {n: topic.sentiments.get(n, 0) for n in analysis.SENTIMENTS},
                "positive_share": round(topic.share("positive"), 3),
                "negative_share": round(topic.share("negative"), 3),
                "trend": [{"period": p, "texts": n} for p, n in topic.trend],
                "quotes": [text_dict(row) for row in topic.quotes],
            }
            for topic in found.topics
        ],
    }


def text_dict(row: VoiceText) -> dict[str, Any]:
    return {
        "id": row.id,
        "source": row.source,
        "ref": row.ref,
        "text": row.text,
        "town": row.town or None,
        "created_at": row.said_at.isoformat(),
        "sentiment": row.sentiment,
        "sentiment_score": row.score,
        "topic": row.topic,
        "sample": row.sample,
    }


EXPORT_FIELDS = ("id", "source", "ref", "created_at", "town", "sentiment", "sentiment_score",
                 "topic", "text", "sample")  # fmt: skip
EXPORT_HEADERS = ("番号", "種別", "元の番号", "日時", "町名", "感情", "感情スコア", "話題", "本文",
                  "サンプル")  # fmt: skip


def export_csv(rows: Iterable[VoiceText]) -> bytes:
    return csvexport.excel_csv(
        EXPORT_FIELDS,
        EXPORT_HEADERS,
        (
            (row.id, SOURCE_LABELS[row.source][0], row.ref, row.said_at, row.town,
             SENTIMENT_LABELS[row.sentiment][0], row.score, row.topic, row.text,
             "サンプル" if row.sample else "")
            for row in rows
        ),
    )  # fmt: skip


def results(session: Session, consultation: Consultation) -> dict[str, Any]:
    """What the results page shows after the period: counts, the support ranking, and the
    sentiment and topics of the published opinions."""
    rows = texts(session, VoiceFilter(consultation_id=consultation.id))
    return {
        "counts": opinion_counts(session, consultation),
        "ranking": published_opinions(session, consultation, order="support")[:10],
        "summary": summarize(rows, regroup=True),
    }


def topic_labels(session: Session) -> list[str]:
    query = select(VoiceText.topic, func.count()).group_by(VoiceText.topic)
    return [label for label, _n in sorted(session.execute(query), key=lambda r: -r[1])]


def trend_points(trend: Sequence[tuple[str, int]], width: int = 120, height: int = 28) -> str:
    """An SVG polyline's points for a topic's trend (the pages draw it; no script)."""
    if not trend:
        return ""
    top = max(n for _p, n in trend) or 1
    step = width / max(1, len(trend) - 1)
    return " ".join(
        f"{round(i * step, 1)},{round(height - 2 - (n / top) * (height - 4), 1)}"
        for i, (_p, n) in enumerate(trend)
    )


def percent(share: float) -> int:
    return math.floor(share * 100 + 0.5)
