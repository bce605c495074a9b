"""The procedure catalog and the life-event guidance (手続きナビ): plain functions, no HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core import audit
from cityos.core import text as jtext
from cityos.core.errors import NotFoundProblem, ValidationProblem
from cityos.core.models import User
from cityos.core.web import CONTROL_CHARACTER_MESSAGE, has_control_characters
from cityos.db import utcnow
from cityos.procedures import catalog
from cityos.procedures.models import LIFE_EVENTS as LIFE_EVENTS
from cityos.procedures.models import Procedure

# The events the guidance asks about ("daily" procedures belong to no life event).
NAVI_EVENTS = tuple(key for key in LIFE_EVENTS if key != "daily")
INSURANCES: dict[str, tuple[str, str, str]] = {
    "kokuho": ("国民健康保険（国保）", "National Health Insurance", "こくみん けんこう ほけん"),
    "shaho": ("職場の健康保険（社保）", "Employer's health insurance", "かいしゃの けんこう ほけん"),
    "kouki": ("後期高齢者医療（75歳以上）", "Late-stage elderly medical care (75+)", "75さい いじょうの ほけん"),
    "none": ("わからない・その他", "Not sure / other", "わからない"),
}  # fmt: skip
MOVING_FROM: dict[str, tuple[str, str, str]] = {
    "japan": ("日本国内のほかの市区町村", "Another municipality in Japan", "にほんの ほかの まち"),
    "abroad": ("海外", "Abroad", "がいこく"),
}  # fmt: skip
MOVING_TO = MOVING_FROM
MAX_AGE = 130
_PROCEDURE_ID = re.compile("[a-z0-9_]{1,40}")
TEXT_LIMIT = 4000


# --- the catalog -----------------------------------------------------------------------------


def load_catalog(session: Session) -> int:
    """Add the shipped procedures the database lacks; staff edits of existing ones are kept."""
    have = set(session.scalars(select(Procedure.id)))
    added = 0
    for row in catalog.procedure_rows():
        if row["id"] not in have:
            session.add(Procedure(**row))
            added += 1
    session.flush()
    return added


def _matches(procedure: Procedure, key: str) -> bool:
    texts = [
        procedure.name_ja, procedure.name_en, procedure.name_easy, procedure.summary_ja,
        procedure.summary_en, procedure.department_ja, procedure.department_en,
        *procedure.keywords, *procedure.forms,
    ]  # fmt: skip
    return any(key in jtext.search_key(t) for t in texts)


def search(
    session: Session,
    *,
    q: str = "",
    event: str = "",
    department: str = "",
    online: bool | None = None,
) -> list[Procedure]:
    """Procedures in catalog order; ``q`` matches names, keywords and forms whatever the kana,
    width or case; ``department`` matches part of the department's name."""
    if event and event not in LIFE_EVENTS:
        choices = ", ".join(LIFE_EVENTS)
        raise ValidationProblem(
            f"event は {choices} のいずれかです / event must be one of {choices}",
            errors={"event": [f"one of {choices}"]},
        )
    found = list(session.scalars(select(Procedure).order_by(Procedure.position, Procedure.id)))
    words = [jtext.search_key(w) for w in jtext.normalize(q).split() if w]
    dept = jtext.search_key(department)
    return [
        p
        for p in found
        if all(_matches(p, w) for w in words)
        and (not event or event in p.events)
        and (not dept or dept in jtext.search_key(p.department_ja + " " + p.department_en))
        and (online is None or p.online == online)
    ]


def get(session: Session, procedure_id: str) -> Procedure:
    plausible = _PROCEDURE_ID.fullmatch(procedure_id) is not None
    procedure = session.get(Procedure, procedure_id) if plausible else None
    if procedure is None:
        raise NotFoundProblem(
            f"手続き {procedure_id!r} は見つかりません / no procedure {procedure_id!r}"
        )
    return procedure


def departments(session: Session) -> list[str]:
    return sorted(set(session.scalars(select(Procedure.department_ja))))


def as_dict(procedure: Procedure) -> dict[str, Any]:
    """The public JSON form of a procedure (``/api/procedures``)."""
    return {
        "id": procedure.id,
        "name": {"ja": procedure.name_ja, "en": procedure.name_en, "easy": procedure.name_easy},
        "summary": {
            "ja": procedure.summary_ja,
            "en": procedure.summary_en,
            "easy": procedure.summary_easy,
        },
        "department": {"ja": procedure.department_ja, "en": procedure.department_en},
        "who": {"ja": procedure.who_ja, "en": procedure.who_en},
        "bring": list(procedure.bring),
        "fee": {"ja": procedure.fee_ja, "en": procedure.fee_en},
        "deadline": {
            "days": procedure.deadline_days,
            "ja": procedure.deadline_ja,
            "en": procedure.deadline_en,
            "easy": procedure.deadline_easy,
        },
        "online": procedure.online,
        "online_how": {"ja": procedure.online_ja, "en": procedure.online_en},
        "where": {"ja": procedure.where_ja, "en": procedure.where_en, "easy": procedure.where_easy},
        "forms": list(procedure.forms),
        "related": list(procedure.related),
        "events": list(procedure.events),
        "keywords": list(procedure.keywords),
        "updated_at": procedure.updated_at.isoformat(),
    }


# --- staff edits -----------------------------------------------------------------------------

_REQUIRED = ("name_ja", "name_en", "department_ja", "department_en")
EDITABLE_TEXTS = (
    "name_ja", "name_en", "name_easy", "summary_ja", "summary_en", "summary_easy",
    "department_ja", "department_en", "who_ja", "who_en", "fee_ja", "fee_en",
    "deadline_ja", "deadline_en", "deadline_easy", "online_ja", "online_en", "where_ja", "where_en", "where_easy",
)  # fmt: skip
_LIMITS = {"name_ja": 200, "name_en": 200, "name_easy": 200, "department_ja": 100,
           "department_en": 100, "fee_ja": 200, "fee_en": 200, "deadline_ja": 200,
           "deadline_en": 200, "deadline_easy": 200, "where_ja": 200, "where_en": 200,
           "where_easy": 200}  # fmt: skip


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def parse_bring(value: str) -> list[dict[str, str]]:
    """「日本語 | English | やさしい日本語」 one a line, as the staff form writes what to bring."""
    items = []
    for line in _lines(value):
        ja, _, rest = line.partition("|")
        en, _, easy = rest.partition("|")
        item = {"ja": ja.strip(), "en": en.strip()}
        if easy.strip():
            item["easy"] = easy.strip()
        items.append(item)
    return items


def update_procedure(
    session: Session, user: User, procedure_id: str, form: Mapping[str, Any]
) -> Procedure:
    """Apply a staff edit (every field checked before any is written) and log it."""
    procedure = get(session, procedure_id)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in (*EDITABLE_TEXTS, "bring", "forms", "keywords", "related", "deadline_days"):
        if has_control_characters(str(form.get(name, ""))):
            errors[name] = [CONTROL_CHARACTER_MESSAGE]
    if errors:
        raise ValidationProblem(CONTROL_CHARACTER_MESSAGE, errors=errors)
    for name in EDITABLE_TEXTS:
        value = str(form.get(name, "")).strip()
        if name in _REQUIRED and not value:
            errors[name] = ["必須です / required"]
        limit = _LIMITS.get(name, TEXT_LIMIT)
        if len(value) > limit:
            errors[name] = [f"{limit}文字までです / at most {limit} characters"]
        values[name] = value
    days_text = jtext.normalize(str(form.get("deadline_days", ""))).strip()
    if days_text and not (days_text.isdigit() and 0 < int(days_text) <= 3650):
        errors["deadline_days"] = [
            "1から3650までの日数で入力してください（期限がなければ空欄） / "
            "a number of days from 1 to 3650 (empty when there is no deadline)"
        ]
    events = [str(e) for e in form.get("events", [])]
    unknown = [e for e in events if e not in LIFE_EVENTS]
    if unknown:
        errors["events"] = [f"知らないライフイベントです / unknown life events: {unknown}"]
    related = _lines(str(form.get("related", "")).replace(",", "\n"))
    known = set(session.scalars(select(Procedure.id)))
    missing = [r for r in related if r not in known or r == procedure.id]
    if missing:
        errors["related"] = [
            f"存在しない手続きIDです / not a procedure id of the catalog: {', '.join(missing)}"
        ]
    bring = parse_bring(str(form.get("bring", "")))
    if any(not item["ja"] for item in bring):
        errors["bring"] = ["各行に日本語を書いてください / each line needs the Japanese text"]
    if errors:
        fields = ", ".join(errors)
        raise ValidationProblem(
            f"入力内容に誤りがあります: {fields} / invalid: {fields}", errors=errors
        )
    before = as_dict(procedure)
    for name, value in values.items():
        setattr(procedure, name, value)
    procedure.deadline_days = int(days_text) if days_text else None
    procedure.online = bool(form.get("online"))
    procedure.events = events
    procedure.related = related
    procedure.bring = bring
    procedure.forms = _lines(str(form.get("forms", "")))
    procedure.keywords = _lines(str(form.get("keywords", "")).replace(",", "\n"))
    procedure.updated_at = utcnow()
    procedure.updated_by = user.name
    after = as_dict(procedure)
    changed = sorted(k for k in after if k != "updated_at" and after[k] != before[k])
    audit.record(
        session, user, "procedure.update", "procedure", procedure.id,
        summary=f"{procedure.name_ja}: {', '.join(changed) or 'no change'}",
        detail={"changed": changed},
    )  # fmt: skip
    session.flush()
    return procedure


# --- 手続きナビ ---------------------------------------------------------------------------------


@dataclass
class NaviAnswers:
    """What the resident told the guidance. Ages are whole years; 0 is a baby."""

    event: str
    age: int | None = None
    household_ages: list[int] = field(default_factory=list)
    insurance: str = "none"
    moving_from: str = "japan"
    moving_to: str = "japan"
    person_age: int | None = None
    dog: bool = False
    vehicle: bool = False

    def as_query(self) -> dict[str, str]:
        """The answers as the question form sends them (for links and saved checklists)."""
        query = {"event": self.event, "insurance": self.insurance}
        if self.age is not None:
            query["age"] = str(self.age)
        if self.household_ages:
            query["household_ages"] = ", ".join(str(a) for a in self.household_ages)
        if self.event == "move_in":
            query["moving_from"] = self.moving_from
        if self.event == "move_out":
            query["moving_to"] = self.moving_to
        if self.person_age is not None:
            query["person_age"] = str(self.person_age)
        if self.dog:
            query["dog"] = "1"
        if self.vehicle:
            query["vehicle"] = "1"
        return query


_AGE_MESSAGE = "0から130までの年齢（数字）で入力してください / an age from 0 to 130 (a number)"


def _age(value: str, name: str, errors: dict[str, list[str]]) -> int | None:
    value = jtext.normalize(value or "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) > MAX_AGE:
        errors[name] = [_AGE_MESSAGE]
        return None
    return int(value)


def _ages(value: str, errors: dict[str, list[str]]) -> list[int]:
    parts = [p for p in re.split(r"[,、，\s]+", jtext.normalize(value or "")) if p]
    if len(parts) > 20:
        errors["household_ages"] = ["20人までです / at most 20 people"]
        return []
    ages = []
    for part in parts:
        age = part.removesuffix("歳").removesuffix("才")
        if not age.isdigit() or int(age) > MAX_AGE:
            errors["household_ages"] = [
                "年齢を数字で、カンマか空白で区切って入力してください（例: 34, 3, 0） / "
                "ages as numbers separated by commas or spaces (e.g. 34, 3, 0)"
            ]
            return []
        ages.append(int(age))
    return ages


def _choice(value: str, choices: Mapping[str, Any], default: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return default
    return value if value in choices else None


def parse_answers(form: Mapping[str, str]) -> NaviAnswers:
    """The guidance's answers from a query or a form; a ValidationProblem names each bad one."""
    errors: dict[str, list[str]] = {}
    event = (form.get("event") or "").strip()
    if event not in NAVI_EVENTS:
        errors["event"] = ["できごとを選んでください / choose what happened"]
    insurance = _choice(form.get("insurance", ""), INSURANCES, "none")
    moving_from = _choice(form.get("moving_from", ""), MOVING_FROM, "japan")
    moving_to = _choice(form.get("moving_to", ""), MOVING_TO, "japan")
    for name, chosen in (
        ("insurance", insurance), ("moving_from", moving_from), ("moving_to", moving_to)
    ):  # fmt: skip
        if chosen is None:
            errors[name] = ["選択肢から選んでください / choose one of the options"]
    answers = NaviAnswers(
        event=event,
        age=_age(form.get("age", ""), "age", errors),
        household_ages=_ages(form.get("household_ages", ""), errors),
        insurance=insurance or "none",
        moving_from=moving_from or "japan",
        moving_to=moving_to or "japan",
        person_age=_age(form.get("person_age", ""), "person_age", errors),
        dog=(form.get("dog") or "") not in ("", "0", "false"),
        vehicle=(form.get("vehicle") or "") not in ("", "0", "false"),
    )
    if errors:
        fields = ", ".join(errors)
        raise ValidationProblem(
            f"入力内容に誤りがあります: {fields} / please check: {fields}", errors=errors
        )
    return answers


def _in(value: int | None, bounds: list[int]) -> bool:
    return value is not None and bounds[0] <= value <= bounds[1]


def rule_applies(rule: Mapping[str, Any], answers: NaviAnswers) -> bool:
    """Whether one rule of ``rules.json`` holds for these answers (every condition it names)."""
    everyone = [a for a in [answers.age, *answers.household_ages] if a is not None]
    children = [a for a in answers.household_ages if a < 19]
    if answers.event == "birth":
        children.append(0)  # the newborn, whether or not it was listed
    checks: dict[str, Callable[[Any], bool]] = {
        "events": lambda v: answers.event in v,
        "insurance": lambda v: answers.insurance in v,
        "from": lambda v: answers.moving_from in v,
        "to": lambda v: answers.moving_to in v,
        "child": lambda v: any(_in(a, v) for a in children),
        "member": lambda v: any(_in(a, v) for a in everyone),
        "person": lambda v: _in(answers.person_age, v),
        "applicant": lambda v: _in(answers.age, v),
        "household_min": lambda v: 1 + len(answers.household_ages) >= v,
        "dog": lambda v: answers.dog == v,
        "vehicle": lambda v: answers.vehicle == v,
    }
    return all(check(rule[key]) for key, check in checks.items() if key in rule)


@dataclass(frozen=True)
class ChecklistItem:
    procedure: Procedure
    why: dict[str, str]  # ja, en, easy


def checklist(session: Session, answers: NaviAnswers) -> list[ChecklistItem]:
    """Every procedure the answers call for, once each, the shortest deadline first."""
    reasons: dict[str, dict[str, str]] = {}
    for rule in catalog.navi_rules():
        if rule["procedure"] not in reasons and rule_applies(rule, answers):
            ja, en, easy = rule["why"]
            reasons[rule["procedure"]] = {"ja": ja, "en": en, "easy": easy}
    if not reasons:
        return []
    found = session.scalars(select(Procedure).where(Procedure.id.in_(list(reasons)))).all()
    items = [ChecklistItem(p, reasons[p.id]) for p in found]
    items.sort(
        key=lambda item: (
            item.procedure.deadline_days is None,
            item.procedure.deadline_days or 0,
            item.procedure.position,
        )
    )
    return items


def checklist_of(session: Session, procedure_ids: list[str]) -> list[Procedure]:
    """The procedures of a saved checklist, in the order saved (ones since removed are left out)."""
    found = {
        p.id: p for p in session.scalars(select(Procedure).where(Procedure.id.in_(procedure_ids)))
    }
    return [found[i] for i in procedure_ids if i in found]
