"""The FAQ chatbot: entries from CSV and staff, answers from them, live facts, the learning log.

The answering itself is pure (:mod:`cityos.chatbot.engine`, :class:`FaqIndex`); this module
keeps the entries and the staff's synonym groups in the database, builds one index from them
per process (rebuilt in a background thread when they change, while the previous one keeps
answering), adds live facts from other domains (open shelters in
disaster mode, counter waiting times, the procedure catalog) and logs every question with
personal data masked, so that staff can turn what was not answered into new entries.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.orm import Session

from cityos.chatbot.engine import (
    QUESTION_LIMIT,
    SUGGESTIONS,
    Answer,
    FaqIndex,
    Greeting,
    Suggestion,
    bundled_synonyms,
    general_lexicon,
    greeting_of,
    korean_sino_words,
    speech_text,
)
from cityos.chatbot.faqcsv import (
    ANSWER_MAX,
    QUESTION_MAX,
    SHORT_MAX,
    URL_MAX,
    FaqEntry,
    FaqImport,
    RowProblem,
    read_faq_csv,
)
from cityos.chatbot.models import AskedQuestion, FaqRow, SynonymGroup
from cityos.core import audit, privacy
from cityos.core import text as jtext
from cityos.core.errors import NotFoundProblem, ValidationProblem
from cityos.core.models import User
from cityos.core.web import has_control_characters
from cityos.db import utcnow

__all__ = [
    "DEMO_FAQ",
    "Answer",
    "FaqEntry",
    "FaqImport",
    "FaqIndex",
    "RowProblem",
    "Suggestion",
    "read_faq_csv",
    "speech_text",
]

DEMO_FAQ = Path(__file__).resolve().parent / "data" / "demo_faq.csv"
CHANNELS = ("web", "api", "line", "cli")
LOW_RATED = -1
DECLINED_JA = "お答えできませんでした"
DECLINED_EN = "Sorry, I could not find an answer."
_FAQ_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
log = logging.getLogger(__name__)


# --- entries -------------------------------------------------------------------------------


def entry_of(row: FaqRow) -> FaqEntry:
    return FaqEntry(
        faq_id=row.faq_id,
        question=row.question,
        answer=row.answer,
        category=row.category,
        department=row.department,
        url=row.url,
        updated=row.updated,
    )


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    encoding: str = ""
    from_html: int = 0  # entries whose question or answer was HTML, read as text

    def as_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "columns": self.columns,
            "encoding": self.encoding,
            "from_html": self.from_html,
            "problems": [{"line": p.line, "reason": p.reason} for p in self.problems],
        }


def store_entries(
    session: Session,
    imported: FaqImport,
    actor: User | None,
    *,
    source: str = "import",
    via: str = "web",
) -> ImportReport:
    """Add the imported entries; an entry whose ID is already there is replaced."""
    report = ImportReport(
        problems=list(imported.problems),
        columns=imported.columns,
        encoding=imported.encoding,
        from_html=imported.from_html,
    )
    existing = {row.faq_id: row for row in session.scalars(select(FaqRow))}
    now = utcnow()
    for entry in imported.entries:
        row = existing.get(entry.faq_id)
        if row is None:
            row = FaqRow(faq_id=entry.faq_id, source=source, created_at=now)
            session.add(row)
            existing[entry.faq_id] = row
            report.added += 1
        else:
            report.updated += 1
        row.question = entry.question
        row.answer = entry.answer
        row.category = entry.category[:SHORT_MAX]
        row.department = entry.department[:SHORT_MAX]
        row.url = entry.url[:URL_MAX]
        row.updated = entry.updated if isinstance(entry.updated, date) else None
        row.changed_at = now
        row.changed_by = actor.name if actor else "system"
    if imported.entries:
        audit.record(
            session, actor, "chatbot.import", "chatbot_entries",
            summary=f"FAQ import: {report.added} added, {report.updated} updated, "
            f"{len(report.problems)} rows unreadable",
            detail={"columns": report.columns}, via=via,
        )  # fmt: skip
    session.flush()
    changed(session)
    return report


def load_demo(session: Session, path: Path = DEMO_FAQ) -> ImportReport | None:
    """The demo FAQ (src/cityos/chatbot/data/demo_faq.csv), when it is there."""
    if not path.exists():
        return None
    return store_entries(session, read_faq_csv(path), None, source="demo", via="cli")


def list_entries(session: Session, q: str = "") -> list[FaqRow]:
    rows = list(session.scalars(select(FaqRow).order_by(FaqRow.category, FaqRow.faq_id)))
    if q:
        key = jtext.search_key(q)
        rows = [r for r in rows if key in jtext.search_key(f"{r.faq_id} {r.question} {r.answer}")]
    return rows


def get_entry(session: Session, faq_id: str) -> FaqRow:
    row = session.scalar(select(FaqRow).where(FaqRow.faq_id == faq_id))
    if row is None:
        raise NotFoundProblem(f"FAQ {faq_id} はありません / no FAQ entry {faq_id}")
    return row


@dataclass
class EntryInput:
    faq_id: str = ""
    question: str = ""
    answer: str = ""
    category: str = ""
    department: str = ""
    url: str = ""
    updated: str = ""


def check_entry(data: EntryInput) -> dict[str, list[str]]:
    """Field -> messages (Japanese / English) for what is wrong in a staff's entry."""
    errors: dict[str, list[str]] = {}
    limits = {
        "faq_id": 64, "question": QUESTION_MAX, "answer": ANSWER_MAX, "category": SHORT_MAX,
        "department": SHORT_MAX, "url": URL_MAX, "updated": 40,
    }  # fmt: skip
    for name, limit in limits.items():
        value = getattr(data, name)
        if len(value) > limit:
            errors.setdefault(name, []).append(f"{limit}文字までです / at most {limit} characters")
        if has_control_characters(value):
            errors.setdefault(name, []).append(
                "使えない制御文字が含まれています / contains a control character"
            )
    if data.faq_id and not _FAQ_ID.match(data.faq_id):
        errors.setdefault("faq_id", []).append(
            "ID は英数字と - _ . : で書いてください / use letters, digits and - _ . : only"
        )
    if not data.question.strip():
        errors.setdefault("question", []).append("質問を書いてください / write the question")
    if not data.answer.strip():
        errors.setdefault("answer", []).append("回答を書いてください / write the answer")
    if data.url.strip() and not re.match(r"^(https?://|/)", data.url.strip()):
        errors.setdefault("url", []).append(
            "URL は http:// か https:// で始めてください / the URL must start with http(s)://"
        )
    if data.updated.strip():
        try:
            jtext.parse_date(data.updated)
        except ValueError:
            errors.setdefault("updated", []).append(
                "日付が読めません（例 2025-04-01） / not a date (e.g. 2025-04-01)"
            )
    return errors


def save_entry(
    session: Session, actor: User, data: EntryInput, *, existing: str | None = None
) -> FaqRow:
    """Add an entry (``existing`` None) or change one; refuses bad input field by field."""
    errors = check_entry(data)
    if existing is None:
        wanted = data.faq_id.strip() or _next_id(session)
        if session.scalar(select(FaqRow.id).where(FaqRow.faq_id == wanted)) is not None:
            errors.setdefault("faq_id", []).append(
                f"ID {wanted} はもう使われています / ID {wanted} is already used"
            )
    if errors:
        fields = ", ".join(errors)
        raise ValidationProblem(
            f"入力内容に誤りがあります: {fields} / please correct: {fields}", errors=errors
        )
    if existing is None:
        row = FaqRow(faq_id=wanted, source="staff")
        session.add(row)
        action = "chatbot.entry_create"
    else:
        row = get_entry(session, existing)
        action = "chatbot.entry_update"
    row.question = jtext.normalize(data.question)
    row.answer = "\n".join(
        jtext.normalize(line) for line in data.answer.splitlines() if line.strip()
    )
    row.category = jtext.normalize(data.category)
    row.department = jtext.normalize(data.department)
    row.url = data.url.strip()
    row.updated = jtext.parse_date(data.updated) if data.updated.strip() else date.today()
    row.changed_at = utcnow()
    row.changed_by = actor.name
    session.flush()
    audit.record(session, actor, action, "chatbot_entry", row.faq_id, summary=row.question[:200])
    changed(session)
    return row


def delete_entry(session: Session, actor: User, faq_id: str) -> None:
    row = get_entry(session, faq_id)
    audit.record(session, actor, "chatbot.entry_delete", "chatbot_entry", faq_id,
                 summary=row.question[:200])  # fmt: skip
    session.delete(row)
    session.flush()
    changed(session)


def _next_id(session: Session) -> str:
    count = session.scalar(select(func.count()).select_from(FaqRow)) or 0
    number = count + 1
    while session.scalar(select(FaqRow.id).where(FaqRow.faq_id == f"S{number:04d}")) is not None:
        number += 1
    return f"S{number:04d}"


# --- synonyms ------------------------------------------------------------------------------

_SYNONYM_SPLIT = re.compile(r"[\t,、，=＝/／|]+")


def synonym_groups(session: Session) -> list[list[str]]:
    return [list(g.words) for g in session.scalars(select(SynonymGroup).order_by(SynonymGroup.id))]


def synonyms_text(groups: list[list[str]]) -> str:
    return "\n".join(", ".join(group) for group in groups)


def parse_synonyms(written: str) -> list[list[str]]:
    """One group a line, words separated by commas (、 , = / tab); refuses lone words."""
    groups: list[list[str]] = []
    problems: list[str] = []
    for number, line in enumerate(written.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if has_control_characters(line):
            problems.append(f"{number}行目: 使えない制御文字 / line {number}: control character")
            continue
        words = [jtext.normalize(w) for w in _SYNONYM_SPLIT.split(line) if w.strip()]
        words = list(dict.fromkeys(w for w in words if w))
        if len(words) < 2:
            problems.append(
                f"{number}行目: 2語以上を「,」で区切って書いてください / line {number}: "
                "write two or more words separated by commas"
            )
        elif any(len(w) > 40 for w in words):
            problems.append(
                f"{number}行目: 1語は40文字までです / line {number}: words up to 40 chars"
            )
        else:
            groups.append(words)
    if len(groups) > 2000:
        problems.append("2000行までです / at most 2000 groups")
    if problems:
        raise ValidationProblem(
            "同義語の表に誤りがあります / the synonym table has errors: " + "; ".join(problems[:5]),
            errors={"synonyms": problems},
        )
    return groups


def save_synonyms(session: Session, actor: User, written: str) -> int:
    groups = parse_synonyms(written)
    for row in session.scalars(select(SynonymGroup)):
        session.delete(row)
    session.flush()
    now = utcnow()
    for words in groups:
        session.add(SynonymGroup(words=words, changed_at=now))
    audit.record(session, actor, "chatbot.synonyms", "chatbot_synonyms",
                 summary=f"{len(groups)} synonym groups")  # fmt: skip
    session.flush()
    changed(session)
    return len(groups)


def reset_synonyms(session: Session, actor: User) -> int:
    """Back to the bundled table."""
    return save_synonyms(session, actor, synonyms_text([list(g) for g in bundled_synonyms()]))


# --- the index: built once per process, rebuilt in the background when entries change -----
#
# The first index of a database is built in the request that needs it (there is nothing to
# answer from before; app startup warms it in a thread). After that, a question that finds the
# entries or synonyms changed is answered from the index it has while one background thread per
# database builds the new one and swaps it in; changes seen during a build lead to one more
# build. A build that fails is logged and the previous index keeps answering.

# Whether the entries changed is read from the database at most this often per process (the
# read scans the whole entry table: most of a question's time with thousands of entries).
# A change made through this process is seen at once (see changed); one made by another
# process (the CLI, another worker) within this many seconds.
RECHECK_SECONDS = 1.0
# After a failed build the same entries are tried again after this long (a new change is
# tried at once).
RETRY_SECONDS = 30.0
_CHECKED: dict[str, float] = {}  # database -> when its fingerprint was last read


@dataclass(frozen=True)
class Served:
    """An index and what it was built from."""

    fingerprint: tuple[Any, ...]
    index: FaqIndex
    built_at: datetime
    generation: int  # builds of one database are numbered as they start reading
    examples: tuple[Suggestion, ...] = ()  # offered with a reply to a greeting


@dataclass
class _Slot:
    """One database's index and its builder; the fields are read and written under ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    first: threading.Lock = field(default_factory=threading.Lock)  # one first build at a time
    served: Served | None = None
    seen: tuple[Any, ...] | None = None  # the fingerprint last read
    wanted: tuple[Any, ...] | None = None  # a fingerprint to build once the running build ends
    builder: threading.Thread | None = None
    warming: bool = False
    generations: int = 0
    failed: tuple[tuple[Any, ...] | None, float] | None = None  # what failed to build, when


_SLOTS: dict[str, _Slot] = {}
_SLOTS_LOCK = threading.Lock()


def _forget_checks(_session: Session | None = None) -> None:
    _CHECKED.clear()


def changed(session: Session) -> None:
    """Entries or synonyms were written in ``session``: once it commits, the next question
    reads the fingerprint again (and the index is rebuilt)."""
    _forget_checks()
    if not event.contains(session, "after_commit", _forget_checks):
        event.listen(session, "after_commit", _forget_checks, once=True)


def _fingerprint(session: Session) -> tuple[Any, ...]:
    entries = session.execute(
        select(func.count(FaqRow.id), func.max(FaqRow.changed_at), func.max(FaqRow.id))
    ).one()
    synonyms = session.execute(
        select(
            func.count(SynonymGroup.id),
            func.max(SynonymGroup.changed_at),
            func.max(SynonymGroup.id),
        )
    ).one()
    return (*entries, *synonyms)


def build_index(entries: list[FaqEntry], synonyms: dict[str, list[str]]) -> FaqIndex:
    """The FAQ's index (the slow part of a rebuild: seconds for thousands of entries)."""
    return FaqIndex.build(entries, synonyms)


# Questions whose entries are offered as examples with the reply to a greeting (the entries the
# FAQ has for them: garbage, a certificate, child allowance, tax).
EXAMPLE_QUESTIONS = (
    "粗大ごみを出したい",
    "住民票の写しはどこで取れますか",
    "児童手当はいつ支給されますか",
    "住民税の納め方",
)


def _examples(index: FaqIndex) -> tuple[Suggestion, ...]:
    found: dict[str, Suggestion] = {}
    for question in EXAMPLE_QUESTIONS:
        answer = index.ask(question)
        if answer.answered and answer.faq_id and answer.question:
            found.setdefault(answer.faq_id, Suggestion(answer.faq_id, answer.question))
    return tuple(found.values())[:SUGGESTIONS]


def _build(session: Session, slot: _Slot) -> Served:
    """Read the entries and synonyms and build their index (the fingerprint is read first, so
    the entries are at least as new as it: a change during the read is rebuilt later)."""
    with slot.lock:
        slot.generations += 1
        generation = slot.generations
    fingerprint = _fingerprint(session)
    entries = [entry_of(r) for r in session.scalars(select(FaqRow).order_by(FaqRow.id))]
    groups = synonym_groups(session)
    index = build_index(entries, {g[0]: g[1:] for g in groups if g})
    return Served(fingerprint, index, utcnow(), generation, _examples(index))


def _publish(slot: _Slot, served: Served) -> Served:
    """Swap ``served`` in unless a newer build is there already; answers what is served."""
    with slot.lock:
        if slot.served is None or served.generation > slot.served.generation:
            slot.served = served
        slot.failed = None
        return slot.served


def _key(session: Session) -> str:
    bind = session.get_bind()
    return str(bind.url) if hasattr(bind, "url") else str(id(bind))


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def _slot(key: str) -> _Slot:
    with _SLOTS_LOCK:
        return _SLOTS.setdefault(key, _Slot())


def _needs_first(served: Served | None, fingerprint: tuple[Any, ...]) -> bool:
    """No index yet, or an empty one while there are entries now: nothing to answer from."""
    return served is None or (len(served.index) == 0 and served.fingerprint != fingerprint)


def _first_build(slot: _Slot, session: Session, fingerprint: tuple[Any, ...]) -> Served:
    with slot.first:  # a request that comes during the warm-up waits for it
        served = slot.served
        if served is not None and not _needs_first(served, fingerprint):
            return served
        return _publish(slot, _build(session, slot))


def _rebuild_later(slot: _Slot, key: str, engine: Engine, fingerprint: tuple[Any, ...]) -> None:
    """Have the index of ``fingerprint`` built in the background: one thread per database;
    while one runs, the newest fingerprint waits for it."""
    with slot.lock:
        if slot.served is not None and slot.served.fingerprint == fingerprint:
            return
        failed = slot.failed
        if (
            failed is not None
            and failed[0] == fingerprint
            and time.monotonic() - failed[1] < RETRY_SECONDS
        ):
            return
        slot.wanted = fingerprint
        if slot.builder is not None:
            return
        slot.builder = threading.Thread(
            target=_rebuild, args=(slot, key, engine), name="chatbot-index", daemon=True
        )
        slot.builder.start()


def _rebuild(slot: _Slot, key: str, engine: Engine) -> None:
    while True:
        with slot.lock:
            wanted = slot.wanted
            slot.wanted = None
            if wanted is None or (slot.served is not None and slot.served.fingerprint == wanted):
                slot.builder = None
                return
        try:
            with Session(engine) as session:
                built = _build(session, slot)
        except Exception:
            log.exception(
                "chatbot: rebuilding the FAQ index failed; the previous index keeps answering"
            )
            with slot.lock:
                slot.failed = (wanted, time.monotonic())
                slot.builder = None
            return
        served = _publish(slot, built)
        with slot.lock:
            if slot.wanted is not None and slot.wanted == served.fingerprint:
                slot.wanted = None
        _CHECKED.pop(key, None)  # the next question compares with the new index at once


def _warm(slot: _Slot, engine: Engine) -> None:
    try:
        with Session(engine) as session:
            fingerprint = _fingerprint(session)
            if fingerprint[0]:  # no entries: the first question builds (an empty index)
                _first_build(slot, session, fingerprint)
        # The word lists read for foreign questions, so that the first one does not wait.
        general_lexicon()
        korean_sino_words()
    except Exception:
        log.exception("chatbot: building the FAQ index at startup failed")
    finally:
        with slot.lock:
            slot.warming = False


def warm_index(engine: Engine) -> None:
    """Build a database's first index in a thread (at app startup), so that the first
    question does not wait for it; a question that comes meanwhile waits for this build."""
    slot = _slot(str(engine.url))
    with slot.lock:
        if slot.warming or (slot.served is not None and len(slot.served.index) > 0):
            return
        slot.warming = True
    threading.Thread(target=_warm, args=(slot, engine), name="chatbot-warm", daemon=True).start()


def _check(session: Session, key: str, slot: _Slot) -> tuple[Served | None, tuple[Any, ...] | None]:
    """Read the fingerprint when it is due and have a changed index rebuilt in the background.
    Answers the index to serve (None: there is nothing to answer from, a first build is
    needed) and the fingerprint when it was read."""
    served = slot.served
    checked = _CHECKED.get(key)
    now = time.monotonic()
    if served is not None and checked is not None and now - checked < RECHECK_SECONDS:
        return served, None
    fingerprint = _fingerprint(session)
    _CHECKED[key] = now
    with slot.lock:
        slot.seen = fingerprint
    if served is None or _needs_first(served, fingerprint):
        return None, fingerprint
    if served.fingerprint != fingerprint:
        _rebuild_later(slot, key, _engine(session), fingerprint)
    return served, fingerprint


def served_index(session: Session) -> Served:
    """The index to answer from now (built here when there is none yet)."""
    key = _key(session)
    slot = _slot(key)
    served, fingerprint = _check(session, key, slot)
    if served is None:
        served = _first_build(slot, session, fingerprint or _fingerprint(session))
    return served


def index_for(session: Session) -> FaqIndex:
    return served_index(session).index


@dataclass(frozen=True)
class IndexStatus:
    """What staff see of the index: whether a build is running, the entries of the index that
    answers now and when it was built, whether it has the latest entries, whether the last
    build failed."""

    building: bool
    entries: int
    built_at: datetime | None
    current: bool
    failed: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "building": self.building,
            "entries": self.entries,
            "built_at": self.built_at.isoformat() if self.built_at else None,
            "current": self.current,
            "failed": self.failed,
        }


def index_status(session: Session) -> IndexStatus:
    """The index's state; like a question, it starts the rebuild when entries changed (and the
    first build, in a thread, when there is no index yet)."""
    key = _key(session)
    slot = _slot(key)
    served, fingerprint = _check(session, key, slot)
    if served is None and fingerprint is not None and fingerprint[0]:
        warm_index(_engine(session))
    with slot.lock:
        served = slot.served
        building = slot.builder is not None or slot.warming
        current = served is not None and served.fingerprint == slot.seen
        failed = slot.failed is not None
    return IndexStatus(
        building=building and not current,
        entries=len(served.index) if served else 0,
        built_at=served.built_at if served else None,
        current=current,
        failed=failed and not current,
    )


# --- live facts ----------------------------------------------------------------------------

_SHELTER = re.compile(r"避難所|避難場所|ひなんじょ|ひなんばしょ|避難先|shelter|evacuat", re.I)
_WAITING = re.compile(
    r"待ち時間|まちじかん|混雑|混んで|こんで|並んで|何分待|wait|crowded|queue", re.I
)


def live_answer(session: Session, question: str, site_url: str = "") -> Answer | None:
    """An answer made from live data (not invented text) when the question asks for it."""
    written = jtext.normalize(question)
    if _SHELTER.search(written):
        from cityos.disaster import service as disaster

        if disaster.mode_row(session).active:
            shelters = disaster.list_shelters(session, open_only=True)
            now = jtext.to_local(utcnow()).strftime("%H:%M")
            if shelters:
                lines = [f"・{s.name}（{s.address}）" for s in shelters[:8]]
                more = (
                    f"\nほか {len(shelters) - 8} か所 / and {len(shelters) - 8} more"
                    if len(shelters) > 8
                    else ""
                )
                text = (
                    f"いま開設中の避難所（{now} 現在、防災システムの情報） / "
                    f"Shelters open now ({now}, from the disaster system):\n"
                    + "\n".join(lines)
                    + more
                )
            else:
                text = (
                    f"{now} 現在、開設中の避難所はまだありません。防災ページで最新情報を確認してください。 / "
                    f"No shelter is open yet ({now}); see the disaster page for the latest."
                )
            return _live("live:shelters", "開設中の避難所は？ / Which shelters are open?",
                         text, "防災課", f"{site_url.rstrip('/')}/disaster/nearest")  # fmt: skip
    if _WAITING.search(written):
        from cityos.reservations import service as reservations

        waits = reservations.waiting_times(session)
        if waits:
            now = jtext.to_local(utcnow()).strftime("%H:%M")
            lines = [
                f"・{w.counter.name_ja} / {w.counter.name_en}: 約{w.minutes}分（{w.waiting}人待ち） / "
                f"about {w.minutes} min ({w.waiting} waiting)"
                for w in waits
            ]
            text = (
                f"窓口の待ち時間（{now} 現在の目安） / Counter waiting times now ({now}):\n"
                + "\n".join(lines)
            )
            return _live("live:waiting", "窓口の待ち時間は？ / How long is the wait at the counters?",
                         text, "市民課", f"{site_url.rstrip('/')}/reservations")  # fmt: skip
    return None


# --- the procedure catalog as answers ------------------------------------------------------

# A question about doing something at the city: what to bring, where, online, how to apply.
_PROCEDURE_CUE = re.compile(
    r"持ち物|持って|もって|必要な(?:もの|物|書類)|何が(?:必要|いる)|なにが(?:ひつよう|いる)|手続|てつづき"
    r"|届(?:け|出)|とどけ|申請|しんせい|申し?込|もうしこ|どこ(?:で|に)|窓口|まどぐち|オンライン|ネットで"
    r"|\b(?:bring|documents?|apply|application|online|procedures?|register)\b",
    re.IGNORECASE,
)
PROCEDURE_PREFIX = "procedure:"
_PROCEDURE_CACHE: dict[str, tuple[tuple[Any, ...], FaqIndex]] = {}


def _procedure_index(session: Session) -> FaqIndex:
    """The catalog's procedures as an index: name, keywords and forms as the question, the
    summary as the answer (rebuilt when the catalog or the synonyms change)."""
    from cityos.procedures import service as procedures
    from cityos.procedures.models import Procedure

    bind = session.get_bind()
    key = str(bind.url) if hasattr(bind, "url") else str(id(bind))
    synonyms = session.execute(
        select(func.count(SynonymGroup.id), func.max(SynonymGroup.changed_at))
    ).one()
    catalog = session.execute(select(func.count(), func.max(Procedure.updated_at))).one()
    fingerprint = (*catalog, *synonyms)
    cached = _PROCEDURE_CACHE.get(key)
    if cached is None or cached[0] != fingerprint:
        entries = [
            FaqEntry(
                faq_id=f"{PROCEDURE_PREFIX}{p.id}",
                question=" ".join([p.name_ja, *map(str, p.keywords), *map(str, p.forms)]),
                answer=p.summary_ja,
            )
            for p in procedures.search(session)
        ]
        groups = synonym_groups(session)
        index = FaqIndex.build(entries, {g[0]: g[1:] for g in groups if g})
        cached = _PROCEDURE_CACHE[key] = (fingerprint, index)
    return cached[1]


def procedure_answer(
    session: Session, question: str, site_url: str = "", threshold: float | None = None
) -> Answer | None:
    """The catalog entry of the procedure a question asks how to do, made into an answer:
    what it is, what to bring, where, online or not, the deadline and the fee, and its page."""
    if not _PROCEDURE_CUE.search(jtext.normalize(question)):
        return None
    found = _procedure_index(session).ask(question, threshold)
    if not found.answered or not found.faq_id:
        return None
    from cityos.procedures import service as procedures

    procedure = procedures.get(session, found.faq_id.removeprefix(PROCEDURE_PREFIX))
    lines = [f"【{procedure.name_ja}】{procedure.summary_ja}"]
    if procedure.bring:
        lines.append("持ち物 / What to bring:")
        lines += [f"・{item.get('ja', '')}" for item in procedure.bring if item.get("ja")]
    if procedure.where_ja:
        lines.append(f"窓口 / Where: {procedure.where_ja}（{procedure.department_ja}）")
    if procedure.online:
        lines.append(f"オンライン / Online: できます / yes. {procedure.online_ja}".rstrip())
    else:
        lines.append("オンライン / Online: できません（窓口で） / no, at the counter")
    if procedure.deadline_ja:
        lines.append(f"期限 / Deadline: {procedure.deadline_ja}")
    if procedure.fee_ja:
        lines.append(f"手数料 / Fee: {procedure.fee_ja}")
    text = "\n".join(lines)
    return Answer(
        True, found.faq_id, f"{procedure.name_ja} / {procedure.name_en}", text,
        found.confidence, [], speech=speech_text(f"{procedure.name_ja}。{procedure.summary_ja}"),
        category=PROCEDURE_CATEGORY, department=procedure.department_ja,
        url=f"{site_url.rstrip('/')}/procedures/{procedure.id}",
        updated=jtext.to_local(procedure.updated_at).date().isoformat(),
    )  # fmt: skip


PROCEDURE_CATEGORY = "手続きカタログ / Procedure catalog"


def _better_of(faq: Answer, procedure: Answer | None) -> Answer:
    """The procedure's entry when it is more certain than the FAQ's answer; the FAQ's
    answer (or entry) then leads the suggestions."""
    if procedure is None or (faq.answered and faq.confidence >= procedure.confidence):
        return faq
    offered: list[Suggestion] = []
    if faq.answered and faq.faq_id and faq.question:
        offered.append(Suggestion(faq.faq_id, faq.question))
    offered += faq.suggestions
    procedure.suggestions = offered[:SUGGESTIONS]
    return procedure


def _live(faq_id: str, question: str, text: str, department: str, url: str) -> Answer:
    return Answer(
        True, faq_id, question, text, 1.0, [], speech=speech_text(text),
        department=department, url=url, updated=jtext.to_local(utcnow()).date().isoformat(),
    )  # fmt: skip


# --- greetings and thanks ------------------------------------------------------------------

GREETING_PREFIX = "greeting:"
_CAN_ASK = {
    "ja": "三鷹市のごみ・税・子育て・手続きなどについて質問してください。",
    "en": "Ask me about Mitaka City's garbage, taxes, child care, procedures and more.",
    "zh": "请提问有关三鹰市的垃圾、税金、育儿、各种手续等问题。",
    "ko": "미타카시의 쓰레기, 세금, 육아, 각종 절차 등에 대해 질문해 주세요.",
}
_CAN_ASK_MORE = {
    "ja": "ほかにも三鷹市のごみ・税・子育て・手続きなどについて、いつでも質問してください。",
    "en": "Ask me anything else about Mitaka City's garbage, taxes, child care, procedures "
    "and more.",
    "zh": "还可以随时提问有关三鹰市的垃圾、税金、育儿、各种手续等问题。",
    "ko": "미타카시의 쓰레기, 세금, 육아, 각종 절차 등에 대해 언제든지 질문해 주세요.",
}
_GREETED = {
    "ja": {"hello": "こんにちは。", "morning": "おはようございます。", "evening": "こんばんは。",
           "thanks": "どういたしまして。"},
    "en": {"hello": "Hello!", "morning": "Good morning!", "evening": "Good evening!",
           "thanks": "You're welcome!"},
    "zh": {"hello": "你好！", "morning": "早上好！", "evening": "晚上好！", "thanks": "不客气！"},
    "ko": {"hello": "안녕하세요!", "morning": "좋은 아침입니다!", "evening": "안녕하세요!",
           "thanks": "천만에요!"},
}  # fmt: skip
_EXAMPLES_HEADING = {
    "ja": "質問の例:",
    "en": "For example (the FAQ is in Japanese):",
    "zh": "例如（FAQ 为日语）：",
    "ko": "예를 들어 (FAQ는 일본어입니다):",
}
_GREETING_LABEL = {"thanks": "お礼 / Thanks"}


def greeting_answer(greeting: Greeting, examples: tuple[Suggestion, ...] = ()) -> Answer:
    """The reply to a message that only greets or thanks: short, in its language, saying what
    can be asked, with entries of the FAQ as example questions."""
    language = greeting.language if greeting.language in _CAN_ASK else "ja"
    more = _CAN_ASK_MORE if greeting.kind == "thanks" else _CAN_ASK
    space = " " if language in ("en", "ko") else ""  # ja and zh write no space after 。！
    text = f"{_GREETED[language][greeting.kind]}{space}{more[language]}"
    return Answer(
        True, f"{GREETING_PREFIX}{language}",
        _GREETING_LABEL.get(greeting.kind, "あいさつ / Greeting"), text, 1.0, list(examples),
        speech=text,
    )  # fmt: skip


# --- asking --------------------------------------------------------------------------------


@dataclass
class Asked:
    answer: Answer
    log_id: int | None


def ask(
    session: Session,
    question: str,
    *,
    channel: str = "web",
    threshold: float | None = None,
    site_url: str = "",
    log: bool = True,
    faq_only: bool = False,
) -> Asked:
    """Answer a resident's question and log it (masked) for staff.

    ``faq_only``: answer from the FAQ entries alone, never from the procedure catalog or live
    data, so that every ``faq_id`` is an entry's (the command line's batch and evaluation use:
    its ``faq_id`` is the imported CSV's ID column)."""
    question = (question or "")[: QUESTION_LIMIT * 2]
    greeting = greeting_of(question)
    if greeting is not None:  # not a question for the FAQ: not logged for staff either
        served = served_index(session)
        if len(served.index):  # without an FAQ there is nothing to invite questions about
            return Asked(greeting_answer(greeting, served.examples), None)
    answer = live_answer(session, question, site_url) if question.strip() and not faq_only else None
    if answer is None:
        answer = index_for(session).ask(question, threshold)
        if not faq_only and answer.reason not in ("empty", "no-words", "prompt"):
            answer = _better_of(answer, procedure_answer(session, question, site_url, threshold))
    log_id = None
    if log and answer.reason not in ("empty", "no-words"):
        row = AskedQuestion(
            text=privacy.mask_personal(question[:QUESTION_LIMIT]),
            channel=channel if channel in CHANNELS else "api",
            answered=answer.answered,
            faq_id=answer.faq_id,
            confidence=round(answer.confidence, 4),
            state="done" if answer.answered else "open",
        )
        session.add(row)
        session.flush()
        log_id = row.id
    return Asked(answer, log_id)


def feedback(
    session: Session, log_id: int, *, rating: int = 0, to_staff: bool = False
) -> AskedQuestion:
    """A resident's thumbs up (1) or down (-1), or their wish that staff answer the question."""
    row = session.get(AskedQuestion, log_id)
    if row is None:
        raise NotFoundProblem(f"質問 {log_id} はありません / no question {log_id}")
    if rating:
        row.rating = 1 if rating > 0 else -1
        if row.rating == LOW_RATED and row.state == "done":
            row.state = "open"  # a wrong answer is work for staff
    if to_staff:
        row.to_staff = True
        row.state = "open"
    session.flush()
    return row


def open_questions(session: Session, limit: int = 200) -> list[AskedQuestion]:
    """What staff should look at: declined, rated down or sent to staff, newest first."""
    query = (
        select(AskedQuestion)
        .where(AskedQuestion.state == "open")
        .order_by(AskedQuestion.to_staff.desc(), AskedQuestion.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def close_question(
    session: Session, actor: User, log_id: int, *, made_faq_id: str | None = None
) -> None:
    row = session.get(AskedQuestion, log_id)
    if row is None:
        raise NotFoundProblem(f"質問 {log_id} はありません / no question {log_id}")
    row.state = "done" if made_faq_id else "dismissed"
    row.made_faq_id = made_faq_id
    audit.record(session, actor, "chatbot.question_close", "chatbot_question", str(log_id),
                 summary=row.text[:200])  # fmt: skip
    session.flush()


def asked_question(session: Session, log_id: int) -> AskedQuestion:
    row = session.get(AskedQuestion, log_id)
    if row is None:
        raise NotFoundProblem(f"質問 {log_id} はありません / no question {log_id}")
    return row


# --- chat channels (LINE) ------------------------------------------------------------------


@dataclass(frozen=True)
class ChatReply:
    """An answer as one chat message: the text (the answer with its source and link, or the
    hand-off) and the questions to offer as buttons under it."""

    text: str
    suggestions: tuple[str, ...]


def source_kind(answer: Answer) -> str:
    """Where an answer comes from: ``faq``, ``procedures`` (the catalog), ``live`` data, or
    ``greeting`` (the reply to a greeting or thanks)."""
    faq_id = answer.faq_id or ""
    if faq_id.startswith(PROCEDURE_PREFIX):
        return "procedures"
    if faq_id.startswith(GREETING_PREFIX):
        return "greeting"
    return "live" if faq_id.startswith("live:") else "faq"


def public_fields(answer: Answer) -> dict[str, Any]:
    """The fixed fields of an answer as ``cityos chatbot ask --json`` and the JSON API give
    them. A reply to a greeting is no answer from the FAQ: ``answered`` is false and
    ``faq_id`` null (so that batch evaluation counts chit-chat as declined), while ``answer``
    carries the reply and ``suggestions`` the example questions."""
    fields = answer.as_json()
    if source_kind(answer) == "greeting":
        fields.update(answered=False, faq_id=None, question=None)
    return fields


def greeting_language(answer: Answer) -> str:
    """The language of a reply to a greeting (ja, en, zh, ko); "" for any other answer."""
    faq_id = answer.faq_id or ""
    return faq_id.removeprefix(GREETING_PREFIX) if faq_id.startswith(GREETING_PREFIX) else ""


def source_line(answer: Answer, site_url: str = "") -> str:
    """Where an answer comes from, said in one line (Japanese / English)."""
    faq_id = answer.faq_id or ""
    kind = source_kind(answer)
    if kind == "live":
        where = f"出典: 市のシステムの最新情報（{answer.department}） / Source: live city data"
    elif kind == "procedures":
        where = (
            f"出典: 三鷹市 手続きカタログ（{answer.department}） / "
            "Source: Mitaka City procedure catalog"
        )
    else:
        where = f"出典: 三鷹市 FAQ {faq_id}（{answer.department}） / Source: Mitaka City FAQ"
    if answer.updated:
        where += f" · {answer.updated}"
    url = answer.url
    if url.startswith("/"):
        url = site_url.rstrip("/") + url
    return f"{where}\n{url}" if url else where


def chat_reply(
    session: Session,
    question: str,
    *,
    channel: str = "line",
    threshold: float | None = None,
    site_url: str = "",
) -> ChatReply | None:
    """Answer a chat message (logged like a web question); None when the message has nothing
    to answer (no words, or no FAQ loaded), so that the channel can say how it is used."""
    asked = ask(session, question, channel=channel, threshold=threshold, site_url=site_url)
    answer = asked.answer
    if answer.reason in ("empty", "no-words"):
        return None
    suggestions = tuple(s.question for s in answer.suggestions)
    if source_kind(answer) == "greeting":
        text = answer.answer or ""
        if suggestions:
            heading = _EXAMPLES_HEADING.get(greeting_language(answer), _EXAMPLES_HEADING["ja"])
            text += f"\n\n{heading}\n" + "\n".join(f"・{q}" for q in suggestions)
        return ChatReply(text, suggestions)
    if answer.answered:
        text = f"{answer.answer}\n\n{source_line(answer, site_url)}"
        return ChatReply(text, suggestions)
    if answer.reason == "prompt":
        text = (
            f"{DECLINED_JA}。このチャットは三鷹市の FAQ にだけ答えます。\n"
            f"{DECLINED_EN} This chat only answers from Mitaka City's FAQ."
        )
        return ChatReply(text, ())
    text = (
        f"{DECLINED_JA}。下の近い質問から選んでください。"
        "ご質問は職員が確認し、FAQ に答えを加えます。\n"
        f"{DECLINED_EN} Choose a close question below; staff will read your question "
        "and add an answer to the FAQ."
    )
    if suggestions:
        text += "\n\n近い質問 / Close questions:\n" + "\n".join(f"・{q}" for q in suggestions)
    text += '\n\nお知らせの設定は「ヘルプ」と送ってください / Send "help" for notice settings.'
    return ChatReply(text, suggestions)


def answer_json(asked: Asked, lang: str = "ja") -> dict[str, Any]:
    """The public JSON answer: the CLI fields plus the source, speech and the log id."""
    answer = asked.answer
    body = public_fields(answer)
    kind = source_kind(answer)
    if kind == "greeting":
        message = "質問の例から選ぶか、質問を書いてください / Choose an example or type a question."
    elif answer.answered and kind == "procedures":
        message = "手続きカタログからの回答です / From the city's procedure catalog"
    elif answer.answered and kind == "live":
        message = "市のシステムの最新情報です / Live information from the city's systems"
    elif answer.answered:
        message = "FAQ の回答です / From the FAQ"
        if answer.translated:
            message = "日本語の FAQ からの回答です / This answer is from the city's Japanese FAQ"
    elif answer.reason == "empty":
        message = "質問を入力してください / Please type a question."
    elif answer.reason == "no-words":
        message = "質問を言葉で書いてください / Please write your question in words."
    elif answer.reason == "prompt":
        message = (
            f"{DECLINED_JA}。このチャットは三鷹市の FAQ にだけ答えます / "
            f"{DECLINED_EN} This chat only answers from Mitaka City's FAQ."
        )
    else:
        message = (
            f"{DECLINED_JA}。近い質問から選ぶか、職員に質問を送ってください / "
            f"{DECLINED_EN} Choose a close question or send yours to staff."
        )
    body.update(
        message=message,
        speech=answer.speech if answer.answered else f"{DECLINED_JA}。",
        source={
            "kind": kind,
            "category": answer.category,
            "department": answer.department,
            "url": answer.url,
            "updated": answer.updated,
            "lang": greeting_language(answer) or "ja",
        }
        if answer.answered
        else None,
        log_id=asked.log_id,
        can_send_to_staff=not answer.answered and asked.log_id is not None,
    )
    return body
