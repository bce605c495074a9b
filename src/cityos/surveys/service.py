"""Surveys (市民アンケート): the question definition, answering, tallies, CSV, QR codes, and
sending free-text answers to the voice analysis.

A survey's questions are data::

    [{"id": "q1", "type": "single", "label": "公園をよく使いますか",
      "choices": ["はい", "いいえ"], "required": true},
     {"id": "q2", "type": "multiple", "label": "何に使いますか", "choices": ["散歩", "遊び"],
      "show_if": {"question": "q1", "equals": ["はい"]}},
     {"id": "q3", "type": "scale", "label": "満足度", "min": 1, "max": 5},
     {"id": "q4", "type": "text", "label": "ご意見"}]

A condition (``show_if``) may only name an earlier single or multiple choice question; the
question is shown (and may be answered) only when that answer is one of ``equals``.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import segno
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.core import audit
from cityos.core.csvexport import excel_csv
from cityos.core.errors import ConflictProblem, ForbiddenProblem, NotFoundProblem, ValidationProblem
from cityos.core.models import User
from cityos.core.text import TOKYO
from cityos.db import utcnow
from cityos.residents.models import Resident
from cityos.surveys.models import MODES, Survey, SurveyResponse
from cityos.voice import service as voice

MANAGE_PERMISSION = "surveys.manage"
QUESTION_TYPES: dict[str, tuple[str, str]] = {
    "single": ("単一選択", "Single choice"),
    "multiple": ("複数選択", "Multiple choice"),
    "scale": ("段階評価", "Scale"),
    "text": ("自由記述", "Free text"),
}
MAX_QUESTIONS = 50
MAX_CHOICES = 30
MAX_TEXT_ANSWER = 2000
_QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
EXAMPLE_DEFINITION = """[
  {"id": "q1", "type": "single", "label": "公園をよく使いますか / Do you use the parks?",
   "choices": ["はい / Yes", "いいえ / No"], "required": true},
  {"id": "q2", "type": "multiple", "label": "何に使いますか / What for?",
   "choices": ["散歩 / Walks", "子どもの遊び / Children's play", "運動 / Exercise"],
   "show_if": {"question": "q1", "equals": ["はい / Yes"]}},
  {"id": "q3", "type": "scale", "label": "満足度 / How satisfied are you?", "min": 1, "max": 5,
   "min_label": "不満 / Unhappy", "max_label": "満足 / Happy", "required": true},
  {"id": "q4", "type": "text", "label": "ご意見 / Your opinion"}
]"""


# --- the definition ------------------------------------------------------------------------------


def _question_problem(index: int, message: str) -> ValidationProblem:
    return ValidationProblem(
        f"質問 {index} : {message}",
        errors={"questions": [f"質問 {index} / question {index}: {message}"]},
    )


def _check_question(index: int, raw: Any, earlier: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _question_problem(index, "{...} の形で書いてください / write it as an object {...}")
    qid = raw.get("id")
    if not isinstance(qid, str) or not _QUESTION_ID.match(qid):
        raise _question_problem(
            index,
            "id は英小文字で始まる20字以内の英数字です / id: a-z then a-z, 0-9, _ (20 at most)",
        )
    if qid in earlier:
        raise _question_problem(index, f"id「{qid}」が重複しています / id {qid} is used twice")
    kind = raw.get("type")
    if kind not in QUESTION_TYPES:
        raise _question_problem(
            index, f"type は {', '.join(QUESTION_TYPES)} のいずれかです / type must be one of them"
        )
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > 300:
        raise _question_problem(index, "label（質問文、300字以内）が必要です / label is required")
    question: dict[str, Any] = {
        "id": qid, "type": kind, "label": label.strip(), "required": raw.get("required") is True,
    }  # fmt: skip
    if kind in ("single", "multiple"):
        choices = raw.get("choices")
        if (
            not isinstance(choices, list)
            or not 2 <= len(choices) <= MAX_CHOICES
            or not all(isinstance(c, str) and c.strip() and len(c) <= 200 for c in choices)
            or len({c.strip() for c in choices}) != len(choices)
        ):
            raise _question_problem(
                index,
                f"choices は2〜{MAX_CHOICES}個の重複しない選択肢です / choices: 2 to {MAX_CHOICES} "
                "different texts",
            )
        question["choices"] = [c.strip() for c in choices]
    if kind == "scale":
        low, high = raw.get("min", 1), raw.get("max", 5)
        if not (isinstance(low, int) and isinstance(high, int)) or not 0 <= low < high <= 10:
            raise _question_problem(
                index, "min と max は 0〜10 の整数で min < max です / min < max, whole numbers 0-10"
            )
        question.update(min=low, max=high)
        for end in ("min_label", "max_label"):
            if isinstance(raw.get(end), str):
                question[end] = raw[end][:100]
    condition = raw.get("show_if")
    if condition is not None:
        question["show_if"] = _check_condition(index, condition, earlier)
    return question


def _check_condition(
    index: int, condition: Any, earlier: Mapping[str, dict[str, Any]]
) -> dict[str, Any]:
    if not isinstance(condition, dict):
        raise _question_problem(index, 'show_if は {"question": ..., "equals": [...]} です')
    target = earlier.get(str(condition.get("question")))
    if target is None or target["type"] not in ("single", "multiple"):
        raise _question_problem(
            index,
            "show_if はこれより前の選択式の質問を指定してください / show_if must name an earlier "
            "choice question",
        )
    equals = condition.get("equals")
    if not isinstance(equals, list) or not equals or not set(equals) <= set(target["choices"]):
        raise _question_problem(
            index,
            f"show_if の equals は「{target['id']}」の選択肢から選んでください / equals must list "
            f"choices of {target['id']}",
        )
    return {"question": target["id"], "equals": list(equals)}


def parse_definition(text: str) -> list[dict[str, Any]]:
    """The questions written as JSON, checked; a ValidationProblem says which one is wrong."""
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValidationProblem(
            f"質問の定義がJSONとして読めません / the questions are not valid JSON: {exc}",
            errors={"questions": [f"JSONとして読めません / not valid JSON: {exc}"]},
        ) from exc
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_QUESTIONS:
        raise ValidationProblem(
            f"質問は1〜{MAX_QUESTIONS}問の配列 [...] です / 1 to {MAX_QUESTIONS} questions in [...]",
            errors={"questions": [f"1〜{MAX_QUESTIONS}問 / 1 to {MAX_QUESTIONS} questions"]},
        )
    questions: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(raw, start=1):
        question = _check_question(index, item, questions)
        questions[question["id"]] = question
    return list(questions.values())


def definition_text(questions: Sequence[Mapping[str, Any]]) -> str:
    return orjson.dumps(list(questions), option=orjson.OPT_INDENT_2).decode()


# --- building and publishing ---------------------------------------------------------------------


def _local_moment(value: str, name: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationProblem(
            "日時は 2026-12-01T09:00 の形で入力してください / write the time as 2026-12-01T09:00",
            errors={name: ["日時の形が正しくありません / not a date and time (2026-12-01T09:00)"]},
        ) from None
    return moment.replace(tzinfo=TOKYO) if moment.tzinfo is None else moment


@dataclass
class SurveyInput:
    title: str = ""
    description: str = ""
    mode: str = "anonymous"
    opens_at: str = ""
    closes_at: str = ""
    questions: str = ""


def _checked(given: SurveyInput) -> dict[str, Any]:
    """Every field of a survey, checked before any is written."""
    errors: dict[str, list[str]] = {}
    title = given.title.strip()
    if not title or len(title) > 200:
        errors["title"] = [
            "題名（200字以内）を入力してください / enter a title (200 characters at most)"
        ]
    if len(given.description) > 5000:
        errors["description"] = ["説明は5000字以内です / 5000 characters at most"]
    if given.mode not in MODES:
        errors["mode"] = ["回答方法を選んでください / choose who may answer"]
    values: dict[str, Any] = {}
    for name in ("opens_at", "closes_at"):
        try:
            values[name] = _local_moment(getattr(given, name), name)
        except ValidationProblem as problem:
            errors.update(problem.errors)
    if (
        values.get("opens_at")
        and values.get("closes_at")
        and values["closes_at"] <= values["opens_at"]
    ):
        errors["closes_at"] = ["終了は開始より後にしてください / the end must be after the start"]
    try:
        values["questions"] = parse_definition(given.questions)
    except ValidationProblem as problem:
        errors.update(problem.errors)
    if errors:
        raise ValidationProblem(
            "入力を確認してください / please check the fields marked", errors=errors
        )
    return {**values, "title": title, "description": given.description.strip(), "mode": given.mode}


def create_survey(session: Session, user: User, given: SurveyInput) -> Survey:
    survey = Survey(slug=secrets.token_urlsafe(9), created_by=user.name, **_checked(given))
    session.add(survey)
    session.flush()
    audit.record(session, user, "surveys.create", "surveys", str(survey.id))
    return survey


def update_survey(session: Session, user: User, survey: Survey, given: SurveyInput) -> None:
    values = _checked(given)
    if survey_has_responses(session, survey) and values["questions"] != survey.questions:
        raise ValidationProblem(
            "回答が集まった後は質問を変えられません / the questions cannot change once answers "
            "have arrived (make a new survey)",
            errors={"questions": ["回答があるため変更できません / answers have arrived"]},
            status=409,
        )
    for name, value in values.items():
        setattr(survey, name, value)
    survey.updated_at = utcnow()
    audit.record(session, user, "surveys.update", "surveys", str(survey.id))


def set_published(session: Session, user: User, survey: Survey, published: bool) -> None:
    survey.published = published
    survey.updated_at = utcnow()
    audit.record(
        session, user, "surveys.publish" if published else "surveys.unpublish", "surveys",
        str(survey.id),
    )  # fmt: skip


def surveys(session: Session) -> list[Survey]:
    return list(session.scalars(select(Survey).order_by(Survey.id.desc())))


def get_survey(session: Session, survey_id: int) -> Survey:
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFoundProblem("アンケートが見つかりません / no such survey")
    return survey


def published_survey(session: Session, slug: str) -> Survey:
    survey = session.scalar(select(Survey).where(Survey.slug == slug[:32]))
    if survey is None or not survey.published:
        raise NotFoundProblem("アンケートが見つかりません / no such survey")
    return survey


def state(survey: Survey, now: datetime | None = None) -> str:
    """draft, upcoming, open or closed."""
    now = now or utcnow()
    if not survey.published:
        return "draft"
    if survey.opens_at and now < survey.opens_at:
        return "upcoming"
    if survey.closes_at and now >= survey.closes_at:
        return "closed"
    return "open"


def survey_has_responses(session: Session, survey: Survey) -> bool:
    return (
        session.scalar(select(SurveyResponse.id).where(SurveyResponse.survey_id == survey.id))
        is not None
    )


# --- answering -----------------------------------------------------------------------------------


def is_shown(question: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    """Whether a conditional question applies, given the earlier answers."""
    condition = question.get("show_if")
    if not condition:
        return True
    given = answers.get(condition["question"])
    chosen = given if isinstance(given, list) else [given] if given is not None else []
    return any(value in condition["equals"] for value in chosen)


def _answer_of(question: Mapping[str, Any], values: list[str]) -> tuple[Any, str]:
    """(the answer or None, an error message or "") for one question's submitted values."""
    values = [v.strip() for v in values if v.strip()]
    kind = question["type"]
    if not values:
        return None, ""
    if kind == "single":
        if len(values) != 1 or values[0] not in question["choices"]:
            return None, "選択肢から1つ選んでください / choose one of the options"
        return values[0], ""
    if kind == "multiple":
        if not set(values) <= set(question["choices"]) or len(set(values)) != len(values):
            return None, "選択肢から選んでください / choose from the options"
        return [c for c in question["choices"] if c in values], ""
    if kind == "scale":
        low, high = question["min"], question["max"]
        if len(values) != 1 or not values[0].isdecimal() or not low <= int(values[0]) <= high:
            return (
                None,
                f"{low}〜{high} の数で答えてください / answer with a number from {low} to {high}",
            )
        return int(values[0]), ""
    if len(values) != 1 or len(values[0]) > MAX_TEXT_ANSWER:
        return (
            None,
            f"{MAX_TEXT_ANSWER}字以内で書いてください / {MAX_TEXT_ANSWER} characters at most",
        )
    return values[0], ""


def check_answers(
    questions: Sequence[Mapping[str, Any]], submitted: Mapping[str, list[str]]
) -> dict[str, Any]:
    """The answers of one response, checked against the definition.

    A missing required answer, a choice not offered, a scale value out of range and an answer
    to a question that the earlier answers hide are each refused next to their question."""
    answers: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for question in questions:
        qid = question["id"]
        given = [v for v in submitted.get(qid, []) if v.strip()]
        if not is_shown(question, answers):
            if given:
                errors[qid] = [
                    "この質問は前の回答により対象外です。回答を消してください / this question "
                    "does not apply after your earlier answer; leave it empty"
                ]
            continue
        answer, problem = _answer_of(question, given)
        if problem:
            errors[qid] = [problem]
        elif answer is None and question.get("required"):
            errors[qid] = ["この質問は回答が必要です / this question needs an answer"]
        elif answer is not None:
            answers[qid] = answer
    if errors:
        raise ValidationProblem(
            f"{len(errors)} 件の回答を確認してください / please check {len(errors)} answer(s)",
            errors=errors,
        )
    return answers


def already_answered(session: Session, survey: Survey, resident: Resident | None) -> bool:
    if resident is None or survey.mode != "resident":
        return False
    query = select(SurveyResponse.id).where(
        SurveyResponse.survey_id == survey.id, SurveyResponse.resident_id == resident.id
    )
    return session.scalar(query) is not None


def submit(
    session: Session,
    survey: Survey,
    resident: Resident | None,
    submitted: Mapping[str, list[str]],
) -> SurveyResponse:
    """Keep one response; nothing is kept when any answer is refused."""
    current = state(survey)
    if current != "open":
        raise ForbiddenProblem(
            "このアンケートは回答を受け付けていません / this survey is not taking answers"
            + ("（終了しました / it has closed）" if current == "closed" else ""),
        )
    if survey.mode == "resident" and resident is None:
        raise ForbiddenProblem(
            "このアンケートはログインした住民が1人1回回答できます / log in to answer this survey"
        )
    answers = check_answers(survey.questions, submitted)
    if already_answered(session, survey, resident):
        raise ConflictProblem(_ANSWERED_TWICE)
    response = SurveyResponse(
        survey_id=survey.id,
        resident_id=resident.id if survey.mode == "resident" and resident else None,
        answers=answers,
    )
    try:
        with session.begin_nested():
            session.add(response)
            session.flush()
    except IntegrityError:
        # Two submissions at once: the database's unique key decides, the second is told.
        raise ConflictProblem(_ANSWERED_TWICE) from None
    return response


_ANSWERED_TWICE = (
    "このアンケートにはすでに回答しています（1人1回です） / you have already answered this "
    "survey (one response per resident)"
)


# --- tallies, CSV, voice, QR ----------------------------------------------------------------------


@dataclass
class QuestionTally:
    question: dict[str, Any]
    answered: int = 0
    counts: list[tuple[str, int]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    mean: float | None = None

    @property
    def largest(self) -> int:
        return max((count for _, count in self.counts), default=0)


def tally(session: Session, survey: Survey) -> tuple[int, list[QuestionTally]]:
    """(number of responses, one tally per question) from every response so far."""
    rows = list(
        session.scalars(
            select(SurveyResponse.answers)
            .where(SurveyResponse.survey_id == survey.id)
            .order_by(SurveyResponse.id.desc())
        )
    )
    result: list[QuestionTally] = []
    for question in survey.questions:
        qid, kind = question["id"], question["type"]
        given = [answers[qid] for answers in rows if qid in answers]
        item = QuestionTally(question=question, answered=len(given))
        if kind in ("single", "multiple"):
            flat = [v for g in given for v in (g if isinstance(g, list) else [g])]
            item.counts = [(c, flat.count(c)) for c in question["choices"]]
        elif kind == "scale":
            steps = range(question["min"], question["max"] + 1)
            item.counts = [(str(s), given.count(s)) for s in steps]
            item.mean = round(sum(given) / len(given), 2) if given else None
        else:
            item.texts = [str(g) for g in given[:20]]
        result.append(item)
    return len(rows), result


def export_csv(session: Session, survey: Survey) -> bytes:
    questions = survey.questions
    fields = ["response_id", "submitted_at", *[q["id"] for q in questions]]
    headers = ["回答番号", "回答日時", *[q["label"] for q in questions]]
    responses = session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id)
        .order_by(SurveyResponse.id)
    )

    def cell(value: Any) -> Any:
        return " | ".join(value) if isinstance(value, list) else value

    rows = (
        [r.id, r.submitted_at, *[cell(r.answers.get(q["id"])) for q in questions]]
        for r in responses
    )
    return excel_csv(fields, headers, rows)


def send_texts_to_voice(session: Session, user: User, survey: Survey) -> voice.ImportReport:
    """Every free-text answer into the voice analysis (source "survey"); sending again
    replaces the texts sent before instead of adding them twice."""
    text_ids = [q["id"] for q in survey.questions if q["type"] == "text"]
    rows: list[voice.ImportRow] = []
    responses = session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id)
        .order_by(SurveyResponse.id)
    )
    for response in responses:
        for qid in text_ids:
            written = response.answers.get(qid)
            if isinstance(written, str) and written.strip():
                rows.append(
                    voice.ImportRow(
                        line=len(rows) + 1,
                        ref=f"{survey.id}-{response.id}-{qid}",
                        text=written,
                        said_at=response.submitted_at,
                    )
                )
    report = voice.store_texts(session, "survey", rows)
    audit.record(session, user, "surveys.to_voice", "surveys", str(survey.id),
        detail={"texts": len(rows)},
    )  # fmt: skip
    return report


def qr_code(url: str, kind: str) -> bytes:
    """The survey's address as a QR code, SVG or PNG (error correction M, a quiet zone of 4)."""
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    if kind == "svg":
        code.save(out, kind="svg", scale=8, border=4, title=url)
    else:
        code.save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def export_of(session: Session, resident: Resident) -> list[dict[str, Any]]:
    """The resident's own (one-per-resident) survey answers, for "download your data"."""
    query = (
        select(SurveyResponse, Survey)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(SurveyResponse.resident_id == resident.id)
        .order_by(SurveyResponse.id)
    )
    return [
        {"survey": survey.title, "submitted_at": r.submitted_at.isoformat(), "answers": r.answers}
        for r, survey in session.execute(query).all()
    ]
