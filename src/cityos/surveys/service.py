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
from cityos.core.errors import (
    ConflictProblem,
    ForbiddenProblem,
    Message,
    NotFoundProblem,
    ValidationProblem,
)
from cityos.core.models import User
from cityos.core.text import TOKYO
from cityos.core.web import CONTROL_CHARACTER_MESSAGE, has_control_characters
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
SCALE_ENDS = (
    "min_label", "max_label", "min_label_en", "max_label_en", "min_label_easy", "max_label_easy"
)  # fmt: skip
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
    # English and やさしい日本語 wording are optional: the answer page falls back to Japanese.
    for key in ("label_en", "label_easy"):
        text = raw.get(key)
        if isinstance(text, str) and text.strip():
            question[key] = text.strip()[:300]
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
        for key, language in (("choices_en", "英語"), ("choices_easy", "やさしい日本語")):
            texts = raw.get(key)
            if isinstance(texts, list) and any(isinstance(c, str) and c.strip() for c in texts):
                if len(texts) != len(choices) or not all(isinstance(c, str) for c in texts):
                    raise _question_problem(
                        index,
                        f"{key} は choices と同じ数の{language}の選択肢です / {key}: one text "
                        "for each choice",
                    )
                question[key] = [c.strip()[:200] for c in texts]
    if kind == "scale":
        low, high = raw.get("min", 1), raw.get("max", 5)
        if not (isinstance(low, int) and isinstance(high, int)) or not 0 <= low < high <= 10:
            raise _question_problem(
                index, "min と max は 0〜10 の整数で min < max です / min < max, whole numbers 0-10"
            )
        question.update(min=low, max=high)
        for end in SCALE_ENDS:
            if isinstance(raw.get(end), str) and raw[end].strip():
                question[end] = raw[end].strip()[:100]
    for key, value in question.items():
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and has_control_characters(text) for text in texts):
            raise _question_problem(index, f"{key}: {CONTROL_CHARACTER_MESSAGE}")
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
            "条件には、この質問より前にある選択式の質問を選んでください（後ろの質問や削除した質問は"
            "使えません） / show_if must name an earlier choice question (not a later or deleted "
            "one)",
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
    return check_questions(raw)


def check_questions(raw: Sequence[Any]) -> list[dict[str, Any]]:
    """Each question checked in order (a condition may only name an earlier one).

    A refused question is named twice in the errors: under ``questions`` (the JSON editor)
    and under ``question-<id>`` (the builder shows it next to that question)."""
    questions: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(raw, start=1):
        try:
            question = _check_question(index, item, questions)
        except ValidationProblem as problem:
            qid = item.get("id") if isinstance(item, dict) else None
            if isinstance(qid, str):
                problem.errors[f"question-{qid}"] = list(problem.errors["questions"])
            raise
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
    # The JSON definition; None where the form does not carry it (the builder's settings:
    # a new survey starts without questions, an existing one keeps its own).
    questions: str | None = ""
    title_en: str = ""
    description_en: str = ""
    # やさしい日本語 (easy Japanese); "" shows the Japanese title in easy mode.
    title_easy: str = ""


# Each text of a survey's settings, named in Japanese and English in its error messages.
_SETTING_TEXTS: dict[str, tuple[str, str]] = {
    "title": ("題名", "the title"),
    "title_en": ("英語の題名", "the English title"),
    "title_easy": ("やさしい日本語の題名", "the easy-Japanese title"),
    "description": ("説明", "the description"),
    "description_en": ("英語の説明", "the English description"),
}


def _checked(given: SurveyInput) -> dict[str, Any]:
    """Every field of a survey, checked before any is written."""
    errors: dict[str, list[str]] = {}
    title = given.title.strip()
    if not title or len(title) > 200:
        errors["title"] = [
            "題名（200字以内）を入力してください / enter a title (200 characters at most)"
        ]
    if len(given.title_en.strip()) > 200:
        errors["title_en"] = ["英語の題名は200字以内です / 200 characters at most"]
    if len(given.title_easy.strip()) > 200:
        errors["title_easy"] = [
            "やさしい日本語の題名は200字以内です / the easy-Japanese title: 200 characters at most"
        ]
    for name in ("description", "description_en"):
        if len(getattr(given, name)) > 5000:
            errors[name] = ["説明は5000字以内です / 5000 characters at most"]
    for name, (ja, en) in _SETTING_TEXTS.items():
        if has_control_characters(getattr(given, name)):
            errors[name] = [f"{ja}: {CONTROL_CHARACTER_MESSAGE} ({en})"]
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
    if given.questions is not None:
        try:
            values["questions"] = parse_definition(given.questions)
        except ValidationProblem as problem:
            errors.update(problem.errors)
    if errors:
        raise ValidationProblem(
            "入力を確認してください / please check the fields marked", errors=errors
        )
    return {
        **values,
        "title": title,
        "title_en": given.title_en.strip(),
        "title_easy": given.title_easy.strip(),
        "description": given.description.strip(),
        "description_en": given.description_en.strip(),
        "mode": given.mode,
    }


def create_survey(session: Session, user: User, given: SurveyInput) -> Survey:
    values = {"questions": [], **_checked(given)}
    survey = Survey(slug=secrets.token_urlsafe(9), created_by=user.name, **values)
    session.add(survey)
    session.flush()
    audit.record(session, user, "surveys.create", "surveys", str(survey.id))
    return survey


# What staff may still correct once answers have arrived: wording, not what was asked or
# which answers count (the tallies, the CSV and the voice export read the stored answers).
TEXT_KEYS = frozenset(
    {"label", "label_en", "label_easy", "choices_en", "choices_easy", "min_label", "max_label",
     "min_label_en", "max_label_en", "min_label_easy", "max_label_easy", "required"}
)  # fmt: skip


def structure(questions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The questions less their wording: ids, order, kinds, choices, ranges and conditions."""
    return [{k: v for k, v in q.items() if k not in TEXT_KEYS} for q in questions]


def _refuse_structural(what: str) -> ValidationProblem:
    message = (
        "回答が集まった後は、質問の追加・削除・並べ替え・種類や選択肢・条件の変更はできません"
        "（集計が崩れるため）。文の修正はできます。新しいアンケートを作ってください / once "
        "answers have arrived, questions cannot be added, removed, reordered or given other "
        "choices or conditions (the tallies would break); wording may still be fixed. Make a "
        "new survey instead"
    )
    return ValidationProblem(message, errors={what: [message]}, status=409)


def update_survey(session: Session, user: User, survey: Survey, given: SurveyInput) -> None:
    values = _checked(given)
    if (
        "questions" in values
        and survey_has_responses(session, survey)
        and structure(values["questions"]) != structure(survey.questions)
    ):
        raise _refuse_structural("questions")
    for name, value in values.items():
        setattr(survey, name, value)
    survey.updated_at = utcnow()
    audit.record(session, user, "surveys.update", "surveys", str(survey.id))


def set_published(session: Session, user: User, survey: Survey, published: bool) -> None:
    if published and not survey.questions:
        raise ValidationProblem(
            "質問が1つもないアンケートは公開できません / add at least one question before "
            "publishing",
            errors={"publish": ["質問を追加してください / add a question first"]},
        )
    survey.published = published
    survey.updated_at = utcnow()
    audit.record(
        session, user, "surveys.publish" if published else "surveys.unpublish", "surveys",
        str(survey.id),
    )  # fmt: skip


# --- the point-and-click builder ------------------------------------------------------------------


@dataclass
class QuestionInput:
    """One question as the builder's form sends it: lists are one text a line.

    English (``_en``) and やさしい日本語 (``_easy``) wording is optional. None means the form
    did not carry that field at all (unlike "", which clears it): editing a question then
    keeps the saved wording while the Japanese it renders is unchanged."""

    type: str = "single"
    label: str = ""
    label_en: str | None = None
    label_easy: str | None = None
    required: bool = False
    choices: str = ""
    choices_en: str | None = None
    choices_easy: str | None = None
    min_label: str = ""
    min_label_en: str | None = None
    min_label_easy: str | None = None
    max_label: str = ""
    max_label_en: str | None = None
    max_label_easy: str | None = None
    # "" (always shown) or "<question id>:<choice numbers>", e.g. "q1:0" or "q1:0,2".
    condition: str = ""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def condition_value(question: Mapping[str, Any], target: Mapping[str, Any] | None) -> str:
    """The builder's value for a question's condition ("" when it has none)."""
    condition = question.get("show_if")
    if not condition or target is None:
        return ""
    numbers = [str(i) for i, c in enumerate(target["choices"]) if c in condition["equals"]]
    return f"{condition['question']}:{','.join(numbers)}"


def _condition_of(
    value: str, earlier: Sequence[Mapping[str, Any]], errors: dict[str, list[str]]
) -> dict[str, Any] | None:
    if not value:
        return None
    qid, _, numbers = value.partition(":")
    target = next((q for q in earlier if q["id"] == qid), None)
    picked: list[str] = []
    if target is not None and target["type"] in ("single", "multiple"):
        for n in numbers.split(","):
            if n.isdecimal() and int(n) < len(target["choices"]):
                picked.append(target["choices"][int(n)])
    if not picked:
        errors["condition"] = [
            "条件には、この質問より前にある選択式の質問とその答えを選んでください / choose an "
            "earlier choice question and its answer for the condition"
        ]
        return None
    return {"question": qid, "equals": picked}


# The builder's text fields, each checked for control characters next to itself.
_BUILDER_TEXTS = (
    "label", "label_en", "label_easy", "choices", "choices_en", "choices_easy", *SCALE_ENDS
)  # fmt: skip


def _built_question(
    qid: str, given: QuestionInput, earlier: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """A question from the builder's fields; each wrong field is named next to it."""
    errors: dict[str, list[str]] = {}
    if given.type not in QUESTION_TYPES:
        errors["type"] = ["質問の種類を選んでください / choose the kind of question"]
    label = given.label.strip()
    if not label:
        errors["label"] = ["質問文を入力してください / enter the question"]
    elif len(label) > 300:
        errors["label"] = ["質問文は300字以内です / 300 characters at most"]
    for name in _BUILDER_TEXTS:
        value = getattr(given, name)
        if isinstance(value, str) and has_control_characters(value):
            errors[name] = [CONTROL_CHARACTER_MESSAGE]
    raw: dict[str, Any] = {
        "id": qid,
        "type": given.type,
        "label": label,
        "required": given.required,
    }
    for name in ("label_en", "label_easy"):
        if getattr(given, name) is not None:
            raw[name] = getattr(given, name)
    if given.type in ("single", "multiple"):
        choices = _lines(given.choices)
        if not 2 <= len(choices) <= MAX_CHOICES:
            errors["choices"] = [
                f"選択肢を1行に1つ、2〜{MAX_CHOICES}個入力してください / enter 2 to "
                f"{MAX_CHOICES} choices, one a line"
            ]
        elif len(set(choices)) != len(choices) or any(len(c) > 200 for c in choices):
            errors["choices"] = [
                "同じ選択肢が2回あるか、200字を超える選択肢があります / a choice is repeated "
                "or longer than 200 characters"
            ]
        raw["choices"] = choices
        for name, language, language_en in (
            ("choices_en", "英語", "English"), ("choices_easy", "やさしい日本語", "easy-Japanese")
        ):  # fmt: skip
            written = getattr(given, name)
            if written is None:
                continue
            translated = _lines(written)
            if translated and len(translated) != len(choices):
                errors[name] = [
                    f"{language}の選択肢は日本語と同じ数だけ、同じ順に書いてください / write "
                    f"one {language_en} choice for each Japanese one, in the same order"
                ]
            raw[name] = translated
    if given.type == "scale":
        raw.update(min=1, max=5)
        for end in SCALE_ENDS:
            if getattr(given, end) is not None:
                raw[end] = getattr(given, end)
    condition = _condition_of(given.condition, earlier, errors)
    if condition is not None:
        raw["show_if"] = condition
    if errors:
        raise ValidationProblem(
            "質問の入力を確認してください / please check the question's fields", errors=errors
        )
    return raw


def _next_id(survey: Survey) -> str:
    """q<n> one past the highest in use. An id freed by a deletion may come back, which is
    harmless: questions can only be deleted while no answer has been kept."""
    numbers = [int(q["id"][1:]) for q in survey.questions if re.fullmatch(r"q\d{1,6}", q["id"])]
    return f"q{max(numbers, default=0) + 1}"


def _save_questions(
    session: Session, user: User, survey: Survey, questions: list[Any], action: str, qid: str
) -> None:
    """The whole list checked (conditions only on earlier questions), then kept and logged."""
    if len(questions) > MAX_QUESTIONS:
        raise ValidationProblem(
            f"質問は{MAX_QUESTIONS}問までです / {MAX_QUESTIONS} questions at most",
            errors={"add": [f"{MAX_QUESTIONS}問まで / {MAX_QUESTIONS} at most"]},
        )
    checked = check_questions(questions)
    if survey_has_responses(session, survey) and structure(checked) != structure(survey.questions):
        raise _refuse_structural(f"question-{qid}" if action != "add" else "add")
    survey.questions = checked
    survey.updated_at = utcnow()
    audit.record(session, user, "surveys.update", "surveys", str(survey.id),
        detail={"action": action, "question": qid},
    )  # fmt: skip


def _position(survey: Survey, qid: str) -> int:
    for index, question in enumerate(survey.questions):
        if question["id"] == qid:
            return index
    raise NotFoundProblem("その質問はありません（削除されました） / no such question (deleted?)")


def add_question(session: Session, user: User, survey: Survey, given: QuestionInput) -> str:
    """A new question at the end; its id."""
    qid = _next_id(survey)
    question = _built_question(qid, given, survey.questions)
    _save_questions(session, user, survey, [*survey.questions, question], "add", qid)
    return qid


def edit_question(
    session: Session, user: User, survey: Survey, qid: str, given: QuestionInput
) -> None:
    """New texts, choices or condition for a question; it keeps its kind and place."""
    index = _position(survey, qid)
    given.type = survey.questions[index]["type"]
    question = _built_question(qid, given, survey.questions[:index])
    if given.type == "scale":  # a scale keeps its range (a JSON-made one may not be 1-5)
        question.update(min=survey.questions[index]["min"], max=survey.questions[index]["max"])
    # The builder shows (and so sends back) every English and やさしい日本語 field. A field the
    # form did not carry at all (a builder page opened before it had the easy-Japanese fields,
    # a script posting only some fields) keeps the saved wording, from either editor, while
    # the Japanese text it renders is unchanged; a field sent empty clears it.
    saved = survey.questions[index]
    for key in ("label", "choices", "min_label", "max_label"):
        for suffix in ("_en", "_easy"):
            name = key + suffix
            if (
                getattr(given, name, None) is None
                and name in saved
                and saved.get(key) == question.get(key)
            ):
                question[name] = saved[name]
    questions = list(survey.questions)
    questions[index] = question
    _save_questions(session, user, survey, questions, "edit", qid)


def move_question(session: Session, user: User, survey: Survey, qid: str, step: int) -> None:
    """One place up (-1) or down (+1); refused where a condition would point forward."""
    index = _position(survey, qid)
    other = index + step
    if not 0 <= other < len(survey.questions):
        return
    questions = list(survey.questions)
    questions[index], questions[other] = questions[other], questions[index]
    try:
        _save_questions(session, user, survey, questions, "up" if step < 0 else "down", qid)
    except ValidationProblem as problem:
        if problem.status == 422:
            problem.errors[f"question-{qid}"] = [
                "そこへは動かせません。条件で使う質問は、条件のある質問より前に置きます / it "
                "cannot move there: a question must come after the question its condition uses"
            ]
        raise


def delete_question(session: Session, user: User, survey: Survey, qid: str) -> None:
    """Refused while a later question's condition names this one."""
    index = _position(survey, qid)
    users = [
        str(n) for n, q in enumerate(survey.questions, start=1)
        if (q.get("show_if") or {}).get("question") == qid
    ]  # fmt: skip
    if users:
        numbers = "・".join(users)
        message = (
            f"質問 {numbers} の条件がこの質問を使っているため削除できません。先にその条件を外して"
            f"ください / question {numbers} shows only after an answer to this one: remove that "
            "condition first"
        )
        raise ValidationProblem(message, errors={f"question-{qid}": [message]})
    questions = [q for i, q in enumerate(survey.questions) if i != index]
    _save_questions(session, user, survey, questions, "delete", qid)


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
            return None, Message(
                "選択肢から1つ選んでください", "choose one of the options",
                "えらぶ ものから 1つ えらんで ください",
            )  # fmt: skip
        return values[0], ""
    if kind == "multiple":
        if not set(values) <= set(question["choices"]) or len(set(values)) != len(values):
            return None, Message(
                "選択肢から選んでください", "choose from the options",
                "えらぶ ものから えらんで ください",
            )  # fmt: skip
        return [c for c in question["choices"] if c in values], ""
    if kind == "scale":
        low, high = question["min"], question["max"]
        if len(values) != 1 or not values[0].isdecimal() or not low <= int(values[0]) <= high:
            return None, Message(
                f"{low}〜{high} の数で答えてください", f"answer with a number from {low} to {high}",
                f"{low} から {high} までの かずで こたえて ください",
            )  # fmt: skip
        return int(values[0]), ""
    if len(values) != 1 or len(values[0]) > MAX_TEXT_ANSWER:
        return None, Message(
            f"{MAX_TEXT_ANSWER}字以内で書いてください", f"{MAX_TEXT_ANSWER} characters at most",
            f"{MAX_TEXT_ANSWER} もじ までで かいて ください",
        )  # fmt: skip
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
                    Message(
                        "この質問は前の回答により対象外です。回答を消してください",
                        "this question does not apply after your earlier answer; leave it empty",
                        "まえの こたえで、この しつもんには こたえなくて いいです。"
                        "こたえを けして ください",
                    )
                ]
            continue
        answer, problem = _answer_of(question, given)
        if problem:
            errors[qid] = [problem]
        elif answer is None and question.get("required"):
            errors[qid] = [
                Message(
                    "この質問は回答が必要です",
                    "this question needs an answer",
                    "この しつもんには かならず こたえて ください",
                )
            ]
        elif answer is not None:
            answers[qid] = answer
    if errors:
        raise ValidationProblem(
            Message(
                f"{len(errors)} 件の回答を確認してください",
                f"please check {len(errors)} answer(s)",
                f"{len(errors)}この こたえを もういちど みて ください",
            ),
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
        raise ForbiddenProblem(_CLOSED if current == "closed" else _NOT_OPEN)
    if survey.mode == "resident" and resident is None:
        raise ForbiddenProblem(
            Message(
                "このアンケートはログインした住民が1人1回回答できます",
                "log in to answer this survey",
                "ログインして から こたえて ください。1人 1かい こたえる ことが できます",
            )
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


_ANSWERED_TWICE = Message(
    "このアンケートにはすでに回答しています（1人1回です）",
    "you have already answered this survey (one response per resident)",
    "あなたは もう この アンケートに こたえました。1人 1かい だけ です",
)
_NOT_OPEN = Message(
    "このアンケートは回答を受け付けていません",
    "this survey is not taking answers",
    "この アンケートには いま こたえる ことが できません",
)
_CLOSED = Message(
    "このアンケートは回答を受け付けていません（終了しました）",
    "this survey is not taking answers (it has closed)",
    "この アンケートは おわりました。もう こたえる ことが できません",
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
