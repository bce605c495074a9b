"""Online forms (電子申請): definitions as data, once-only prefill, checking, submissions.

Plain functions; no HTTP. A resident's lookups take the resident and answer 404 for a
submission that is not theirs (as the residents domain does). Every value is checked before
anything is written, so a refused form leaves nothing behind. マイナンバー values are kept only
encrypted (Fernet, key from settings) and shown masked.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

from cryptography.fernet import Fernet, InvalidToken
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.address import index as address_index
from cityos.address import service as address
from cityos.core import audit
from cityos.core import text as jtext
from cityos.core.errors import (
    ConflictProblem,
    ForbiddenProblem,
    Message,
    NotFoundProblem,
    PayloadTooLargeProblem,
    ValidationProblem,
)
from cityos.core.events import ApplicationStatusChanged, emit
from cityos.core.models import User
from cityos.core.uploads import FILE_MAGIC, FileStore, too_large_message
from cityos.core.web import CONTROL_CHARACTER_MESSAGE, has_control_characters
from cityos.db import utcnow
from cityos.forms.models import NEXT_STATUSES, STATUSES, FormDefinition, Submission, SubmissionEvent
from cityos.procedures import service as procedures
from cityos.residents import service as residents
from cityos.residents.models import Resident
from cityos.settings import Settings

FIELD_TYPES = ("text", "kana", "postcode", "address", "phone", "date", "mynumber", "choice", "file")
PREFILL_SOURCES = ("profile.name", "profile.kana", "profile.birth_date", "profile.address")
# Never prefilled from an earlier submission: secrets and files are asked each time.
NOT_CARRIED = ("mynumber", "file")
TEXT_LIMIT = 300
FIELD_LIMIT = 60
DEFAULT_FILE_BYTES = 5 * 1024 * 1024
COMMENT_LIMIT = 2000
COUNTER_TOKEN_DAYS = 90
MASK = "●●●●●●●●"
PREFILLED_JA = "登録済みの情報から入力しました"
PREFILLED_EN = "Filled in from what the city already has"
CARRIED_JA = "この手続きで入力済み"
CARRIED_EN = "Entered earlier in this checklist"


def _not_found() -> NotFoundProblem:
    return NotFoundProblem("見つかりません / not found")


def _problem(errors: dict[str, list[str]]) -> ValidationProblem:
    if len(errors) == 1:
        return ValidationProblem(next(iter(errors.values()))[0], errors=errors)
    fields = ", ".join(errors)
    return ValidationProblem(
        Message(
            f"入力内容に誤りがあります: {fields}",
            f"please check: {fields}",
            f"{len(errors)}この ところを なおして ください",
        ),
        errors=errors,
    )


# --- form definitions ------------------------------------------------------------------------


def forms(session: Session, *, active_only: bool = True) -> list[FormDefinition]:
    query = select(FormDefinition).order_by(FormDefinition.department_ja, FormDefinition.id)
    if active_only:
        query = query.where(FormDefinition.active.is_(True))
    return list(session.scalars(query))


def form(session: Session, form_id: str, *, active_only: bool = True) -> FormDefinition:
    found = session.get(FormDefinition, form_id)
    if found is None or (active_only and not found.active):
        raise _not_found()
    return found


def forms_for_procedure(session: Session, procedure_id: str) -> list[FormDefinition]:
    query = select(FormDefinition).where(
        FormDefinition.procedure_id == procedure_id, FormDefinition.active.is_(True)
    )
    return list(session.scalars(query))


def _definition_error(where: str, ja: str, en: str) -> str:
    return f"{where}: {ja} / {en}"


def _check_field(position: int, item: Any, seen: set[str]) -> list[str]:
    where = f"fields[{position}]"
    if not isinstance(item, dict):
        return [_definition_error(where, "オブジェクトではありません", "not an object")]
    problems = []
    name = item.get("name")
    if not isinstance(name, str) or not name.isidentifier() or len(name) > 40:
        problems.append(
            _definition_error(where, "name は英字で始まる識別子です", "name must be an identifier")
        )
    elif name in seen:
        problems.append(
            _definition_error(where, f"name {name} が重複しています", f"duplicate name {name}")
        )
    else:
        seen.add(name)
    kind = item.get("type")
    if kind not in FIELD_TYPES:
        allowed = ", ".join(FIELD_TYPES)
        problems.append(
            _definition_error(
                where, f"type は {allowed} のどれかです", f"type must be one of {allowed}"
            )
        )
    for key in ("label_ja", "label_en"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            problems.append(_definition_error(where, f"{key} が必要です", f"{key} is required"))
    for key in ("label_easy", "help_ja", "help_en", "help_easy"):
        if not isinstance(item.get(key, ""), str):
            problems.append(_definition_error(where, f"{key} は文字列です", f"{key} must be text"))
    prefill = item.get("prefill")
    if prefill is not None and prefill not in PREFILL_SOURCES:
        problems.append(
            _definition_error(
                where, "prefill が不明です", f"prefill must be one of {', '.join(PREFILL_SOURCES)}"
            )
        )
    if kind == "choice":
        choices = item.get("choices")
        if (
            not isinstance(choices, list)
            or not choices
            or not all(
                isinstance(c, dict)
                and all(isinstance(c.get(k), str) and c[k] for k in ("value", "ja", "en"))
                and isinstance(c.get("easy", ""), str)
                for c in choices
            )
        ):
            problems.append(
                _definition_error(
                    where,
                    "choices に value・ja・en（easy は任意）の選択肢が必要です",
                    "choices need value, ja and en (easy is optional)",
                )
            )
    if kind == "file":
        accept = item.get("accept", list(FILE_MAGIC))
        limit = item.get("max_bytes", DEFAULT_FILE_BYTES)
        if not isinstance(accept, list) or not accept or any(a not in FILE_MAGIC for a in accept):
            problems.append(
                _definition_error(
                    where,
                    "accept が不明な形式を含みます",
                    f"accept must list types among {', '.join(FILE_MAGIC)}",
                )
            )
        if (
            not isinstance(limit, int)
            or isinstance(limit, bool)
            or not 1 <= limit <= 20 * 1024 * 1024
        ):
            problems.append(
                _definition_error(
                    where, "max_bytes は 1〜20MB です", "max_bytes must be 1 byte to 20 MB"
                )
            )
    if not isinstance(item.get("required", False), bool):
        problems.append(
            _definition_error(
                where, "required は true か false です", "required must be true or false"
            )
        )
    return problems


def check_definition(data: Any) -> dict[str, Any]:
    """A staff-edited definition checked whole: every problem is listed, none is saved."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise _problem({"definition": ["JSON オブジェクトではありません / not a JSON object"]})
    for key in ("title_ja", "title_en", "department_ja", "department_en"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            problems.append(
                _definition_error(key, "1〜100文字で必要です", "required, 1 to 100 characters")
            )
    for key in ("intro_ja", "intro_en", "intro_easy", "title_easy", "procedure_id"):
        if not isinstance(data.get(key, ""), str):
            problems.append(_definition_error(key, "文字列です", "must be a string"))
    if not isinstance(data.get("active", True), bool):
        problems.append(_definition_error("active", "true か false です", "must be true or false"))
    fields = data.get("fields")
    if not isinstance(fields, list) or not fields or len(fields) > FIELD_LIMIT:
        problems.append(
            _definition_error(
                "fields",
                f"1〜{FIELD_LIMIT}個の項目が必要です",
                f"1 to {FIELD_LIMIT} fields are required",
            )
        )
        fields = []
    seen: set[str] = set()
    for position, item in enumerate(fields):
        problems.extend(_check_field(position, item, seen))
    if problems:
        raise _problem({"definition": problems})
    return {
        "title_ja": data["title_ja"].strip(),
        "title_en": data["title_en"].strip(),
        "department_ja": data["department_ja"].strip(),
        "department_en": data["department_en"].strip(),
        "title_easy": data.get("title_easy", "").strip(),
        "intro_ja": data.get("intro_ja", ""),
        "intro_en": data.get("intro_en", ""),
        "intro_easy": data.get("intro_easy", ""),
        "procedure_id": data.get("procedure_id", ""),
        "active": data.get("active", True),
        "fields": fields,
    }


def definition_json(found: FormDefinition) -> str:
    """The editable part of a form as pretty JSON (what the staff editor shows)."""
    data = {
        "title_ja": found.title_ja,
        "title_en": found.title_en,
        "title_easy": found.title_easy,
        "department_ja": found.department_ja,
        "department_en": found.department_en,
        "procedure_id": found.procedure_id,
        "intro_ja": found.intro_ja,
        "intro_en": found.intro_en,
        "intro_easy": found.intro_easy,
        "active": found.active,
        "fields": found.fields,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def missing_translations(found: FormDefinition) -> list[str]:
    """Which texts of a form lack English or やさしい日本語 (the page then shows Japanese)."""
    missing = [key for key in ("title_easy", "intro_easy") if not getattr(found, key)]
    if found.intro_ja and not found.intro_en:
        missing.append("intro_en")
    for field in found.fields:
        name = field.get("name", "?")
        keys = ["label_easy"] + (["help_en", "help_easy"] if field.get("help_ja") else [])
        missing += [f"{name}.{key}" for key in keys if not field.get(key)]
        missing += [
            f"{name}.choices[{c.get('value')}].easy"
            for c in field.get("choices", [])
            if not c.get("easy")
        ]
    return missing


def parse_definition(written: str) -> dict[str, Any]:
    try:
        data = json.loads(written)
    except json.JSONDecodeError as exc:
        raise _problem(
            {
                "definition": [
                    f"JSON として読めません（{exc.lineno}行目） / not valid JSON (line {exc.lineno})"
                ]
            }
        ) from exc
    return check_definition(data)


def update_definition(session: Session, user: User, form_id: str, written: str) -> FormDefinition:
    """Replace a form's definition after checking all of it; the change is in the audit log."""
    found = form(session, form_id, active_only=False)
    checked = parse_definition(written)
    before = definition_json(found)
    for key, value in checked.items():
        setattr(found, key, value)
    found.updated_at, found.updated_by = utcnow(), user.name
    audit.record(
        session, user, "forms.definition.update", "form", form_id,
        summary=f"{found.title_ja} を更新", detail={"before": json.loads(before), "after": checked},
    )  # fmt: skip
    session.flush()
    return found


def load_shipped(session: Session) -> int:
    """Add the shipped forms the database lacks (staff edits stay); how many were added."""
    from cityos.forms.catalog import form_rows

    added = 0
    for row in form_rows():
        if session.get(FormDefinition, row["id"]) is None:
            session.add(FormDefinition(**row))
            added += 1
    session.flush()
    return added


# --- マイナンバー, postcodes -------------------------------------------------------------------


def my_number_is_valid(digits: str) -> bool:
    """The check digit of an Individual Number (個人番号) per the ministerial ordinance."""
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    body = [int(c) for c in digits[:11]]
    total = 0
    for n in range(1, 12):
        weight = n + 1 if n <= 6 else n - 5
        total += body[11 - n] * weight
    remainder = total % 11
    check = 0 if remainder <= 1 else 11 - remainder
    return check == int(digits[11])


def masked(number: str) -> str:
    return MASK + number[-4:]


def cipher(settings: Settings) -> Fernet:
    """The Fernet key from settings, else one derived from the installation's secret key."""
    if settings.forms_encryption_key:
        return Fernet(settings.forms_encryption_key.encode())
    seed = hashlib.sha256(b"cityos.forms|" + settings.resolved_secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(seed))


def secret_values(submission: Submission, fernet: Fernet) -> dict[str, str]:
    if not submission.secret:
        return {}
    try:
        found: dict[str, str] = json.loads(fernet.decrypt(submission.secret.encode()))
    except InvalidToken:
        return {}
    return found


def postcode_lookup(written: str) -> dict[str, str] | None:
    """The prefecture, city and town of a postcode (Japan Post data in cityos.address)."""
    code = jtext.normalize_postcode(written)
    if code is None:
        return None
    found = address_index.load_index().postcode(code.replace("-", ""))
    if found is None:
        return None
    pref, city, town = found
    return {"postcode": code, "pref": pref, "city": city, "town": town}


# --- checking values ------------------------------------------------------------------------


# What a resident is told next to a field, in Japanese, English and やさしい日本語.
REQUIRED = Message("必須です", "required", "かならず かいて ください")
TOO_LONG = Message(
    f"{TEXT_LIMIT}文字までです", f"at most {TEXT_LIMIT} characters",
    f"{TEXT_LIMIT}もじ までで かいて ください",
)  # fmt: skip
NOT_KANA = Message(
    "カタカナ（またはひらがな）で入力してください", "write it in katakana (or hiragana)",
    "カタカナ か ひらがなで かいて ください",
)  # fmt: skip
NOT_A_DATE = Message(
    "存在する日付を 2026-04-01 や 令和8年4月1日 の形で入力してください"
    "（令和0年や2月30日はありません）",
    "enter a real date such as 2026-04-01 or 令和8年4月1日",
    "ひづけを ただしく かいて ください。れい：2026-04-01、令和（れいわ）8年4月1日",
)
FUTURE_DATE = Message(
    "未来の日付です", "the date is in the future", "まだ きて いない ひです。ひづけを みて ください"
)
OLD_DATE = Message(
    "日付が古すぎます", "the date is too long ago", "ひづけが ふるすぎます。ひづけを みて ください"
)
NOT_AN_ADDRESS = Message(
    "住所を市区町村まで確認できませんでした（例: 東京都三鷹市下連雀3-22-14）",
    "the address was not recognized down to the city (e.g. 東京都三鷹市下連雀3-22-14)",
    "住所（じゅうしょ）が わかりません。まちの なまえ まで かいて ください。"
    "れい：東京都三鷹市下連雀3-22-14",
)
NOT_A_PHONE = Message(
    "電話番号を 0422-45-1151 の形で入力してください",
    "enter a phone number such as 0422-45-1151",
    "でんわ ばんごうを かいて ください。れい：0422-45-1151",
)
NOT_A_POSTCODE = Message(
    "存在する郵便番号を 181-8555 の形で入力してください",
    "enter a real postcode such as 181-8555",
    "郵便番号（ゆうびん ばんごう）が ちがいます。れい：181-8555",
)
NOT_A_MY_NUMBER = Message(
    "個人番号が正しくありません（12桁の数字で、最後の検査用数字が合いません）",
    "this is not a valid Individual Number (12 digits; the check digit does not match)",
    "マイナンバーが ちがいます。12けたの ばんごうを もう いちど みて ください",
)
NOT_A_CHOICE = Message(
    "選択肢から選んでください", "choose one of the options", "どれか 1つを えらんで ください"
)
NO_FILE = Message("ファイルを選んでください", "choose a file", "ファイルを えらんで ください")


@dataclass(frozen=True)
class Upload:
    """A file sent with a form: its name, its bytes (read up to the limit + 1) and whether it was cut."""

    filename: str
    data: bytes


def _label(field: dict[str, Any]) -> str:
    return f"{field['label_ja']} / {field['label_en']}"


def _check_text(field: dict[str, Any], value: str, errors: dict[str, list[str]]) -> str:
    name = field["name"]
    cleaned = " ".join(jtext.normalize(value).split())
    if len(cleaned) > TEXT_LIMIT:
        errors[name] = [TOO_LONG]
    return cleaned


def _check_kana(field: dict[str, Any], value: str, errors: dict[str, list[str]]) -> str:
    try:
        return jtext.katakana_name(value)
    except ValueError:
        errors[field["name"]] = [NOT_KANA]
        return ""


def _check_date(field: dict[str, Any], value: str, errors: dict[str, list[str]]) -> str:
    try:
        parsed = jtext.parse_date(value)
    except ValueError:
        errors[field["name"]] = [NOT_A_DATE]
        return ""
    if field.get("past") and parsed > date.today():
        errors[field["name"]] = [FUTURE_DATE]
        return ""
    if parsed.year < residents.OLDEST_BIRTH_YEAR:
        errors[field["name"]] = [OLD_DATE]
        return ""
    return parsed.isoformat()


def _check_address(
    field: dict[str, Any], value: str, errors: dict[str, list[str]], prefer_city: str
) -> str:
    written = " ".join(value.split())
    if len(written) > TEXT_LIMIT:
        errors[field["name"]] = [TOO_LONG]
        return ""
    found = address.normalize(written, prefer_city=prefer_city)
    if found.level < address.LEVEL_CITY:
        errors[field["name"]] = [NOT_AN_ADDRESS]
        return ""
    return residents.address_line(found.as_dict(extras=False)) or written


def _check_one(
    field: dict[str, Any], value: str, errors: dict[str, list[str]], prefer_city: str
) -> str:
    kind, name = field["type"], field["name"]
    if kind == "kana":
        return _check_kana(field, value, errors)
    if kind == "date":
        return _check_date(field, value, errors)
    if kind == "address":
        return _check_address(field, value, errors, prefer_city)
    if kind == "phone":
        phone = jtext.normalize_phone(value)
        if phone is None:
            errors[name] = [NOT_A_PHONE]
        return phone or ""
    if kind == "postcode":
        found = postcode_lookup(value)
        if found is None:
            errors[name] = [NOT_A_POSTCODE]
            return ""
        return found["postcode"]
    if kind == "mynumber":
        digits = jtext.normalize(value).replace("-", "").replace(" ", "")
        if not my_number_is_valid(digits):
            errors[name] = [NOT_A_MY_NUMBER]
        return digits
    if kind == "choice":
        if value not in {c["value"] for c in field["choices"]}:
            errors[name] = [NOT_A_CHOICE]
        return value
    return _check_text(field, value, errors)


def _check_file(field: dict[str, Any], upload: Upload, errors: dict[str, list[str]]) -> str:
    """The media type of a file, checked against its first bytes and the field's limit."""
    limit = int(field.get("max_bytes", DEFAULT_FILE_BYTES))
    if len(upload.data) > limit:
        size = f"{limit / 1024 / 1024:.0f}"
        errors[field["name"]] = [
            Message(
                f"アップロードできるのは {size} MB までです",
                f"uploads are limited to {size} MB",
                f"ファイルが おおきすぎます。{size}MB までの ファイルを えらんで ください",
            )
        ]
        return ""
    accept = field.get("accept", list(FILE_MAGIC))
    for media in accept:
        if any(upload.data.startswith(magic) for magic in FILE_MAGIC[media]):
            return str(media)
    kinds = "・".join(m.split("/")[1].upper() for m in accept)
    errors[field["name"]] = [
        Message(
            f"{kinds} のファイルを選んでください",
            f"choose a {kinds} file",
            f"{kinds} の ファイルを えらんで ください",
        )
    ]
    return ""


@dataclass
class Checked:
    values: dict[str, str]
    secrets: dict[str, str]
    files: dict[str, tuple[Upload, str]]


def check_values(
    found: FormDefinition,
    raw: dict[str, str],
    uploads: dict[str, Upload],
    *,
    prefer_city: str,
    kept: frozenset[str] = frozenset(),
) -> Checked:
    """Every field of the form checked; a ValidationProblem lists each wrong one.

    ``kept`` names fields (files, マイナンバー) already on file that may be left empty: on a
    resubmission the earlier value stands.
    """
    errors: dict[str, list[str]] = {}
    checked = Checked({}, {}, {})
    for field in found.fields:
        name, kind = field["name"], field["type"]
        if kind == "file":
            upload = uploads.get(name)
            if upload is None or not upload.data:
                if field.get("required") and name not in kept:
                    errors[name] = [NO_FILE]
                continue
            media = _check_file(field, upload, errors)
            if media:
                checked.files[name] = (upload, media)
            continue
        value = raw.get(name, "")
        if has_control_characters(value):
            errors[name] = [CONTROL_CHARACTER_MESSAGE]
            continue
        if not value.strip():
            if field.get("required") and not (kind == "mynumber" and name in kept):
                errors[name] = [REQUIRED]
            continue
        clean = _check_one(field, value.strip(), errors, prefer_city)
        if name in errors:
            continue
        if kind == "mynumber":
            checked.secrets[name] = clean
        else:
            checked.values[name] = clean
    if errors:
        raise _problem(errors)
    return checked


# --- once-only prefill ---------------------------------------------------------------------------


def _from_profile(resident: Resident) -> dict[str, str]:
    profile = resident.profile
    if profile is None:
        return {}
    known = {
        "profile.name": profile.name,
        "profile.kana": profile.kana,
        "profile.birth_date": profile.birth_date.isoformat() if profile.birth_date else "",
        "profile.address": residents.formatted_address(profile) or profile.address_input,
    }
    return {k: v for k, v in known.items() if v}


def _from_submissions(
    session: Session, resident: Resident, form_ids: Collection[str] | None = None
) -> dict[str, str]:
    """The newest value the resident gave for each field name in earlier submissions (of
    ``form_ids`` only, when given)."""
    query = (
        select(Submission.values)
        .where(Submission.resident_id == resident.id)
        .order_by(Submission.id)
    )
    if form_ids is not None:
        query = query.where(Submission.form_id.in_(list(form_ids)))
    known: dict[str, str] = {}
    for values in session.scalars(query):
        known.update({k: str(v) for k, v in values.items() if v})
    return known


def prefill(
    session: Session,
    found: FormDefinition,
    resident: Resident,
    *,
    checklist_forms: Collection[str] = (),
) -> tuple[dict[str, str], set[str], set[str]]:
    """Values the city already has for this form, which fields they fill (once-only), and
    which of those the resident entered in another form of the same 手続きナビ checklist."""
    profile = _from_profile(resident)
    in_checklist = _from_submissions(session, resident, checklist_forms) if checklist_forms else {}
    earlier = _from_submissions(session, resident)
    values: dict[str, str] = {}
    carried: set[str] = set()
    for field in found.fields:
        name = field["name"]
        if field["type"] in NOT_CARRIED:
            continue
        source = field.get("prefill")
        value = profile.get(source, "") if source else ""
        if not value and in_checklist.get(name):
            value = in_checklist[name]
            carried.add(name)
        value = value or earlier.get(name, "")
        if value:
            values[name] = value
    return values, set(values), carried


# --- 手続きナビ checklists and their online forms ---------------------------------------------

NAVI_LIMIT = 1000


def navi_checklist(session: Session, navi: str) -> tuple[str, list[str]]:
    """The 手続きナビ checklist whose answers ``navi`` carries (a query string): the answers
    written out again, and its procedures; nothing when it carries none or a broken one."""
    if not navi or len(navi) > NAVI_LIMIT:
        return "", []
    try:
        answers = procedures.parse_answers(dict(parse_qsl(navi)))
    except ValidationProblem:
        return "", []
    items = procedures.checklist(session, answers)
    return urlencode(answers.as_query()), [item.procedure.id for item in items]


def online_forms(
    session: Session, procedure_ids: Collection[str]
) -> dict[str, list[FormDefinition]]:
    """The online forms of each of these procedures (procedures without one are left out)."""
    query = (
        select(FormDefinition)
        .where(
            FormDefinition.procedure_id.in_(list(procedure_ids)),
            FormDefinition.active.is_(True),
        )
        .order_by(FormDefinition.id)
    )
    found: dict[str, list[FormDefinition]] = {}
    for definition in session.scalars(query):
        found.setdefault(definition.procedure_id, []).append(definition)
    return found


def filed_for(
    session: Session, resident: Resident | None, procedure_ids: Collection[str]
) -> dict[str, Submission]:
    """The resident's newest application for each of these procedures that has one."""
    if resident is None:
        return {}
    query = (
        select(Submission)
        .join(FormDefinition, FormDefinition.id == Submission.form_id)
        .where(
            Submission.resident_id == resident.id,
            FormDefinition.procedure_id.in_(list(procedure_ids)),
        )
        .order_by(Submission.id)
    )
    return {submission.form.procedure_id: submission for submission in session.scalars(query)}


# --- submissions ------------------------------------------------------------------------------


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


def _checked_key(idempotency_key: str) -> str:
    key = idempotency_key.strip()
    if not key or len(key) > 64 or not key.replace("-", "").replace("_", "").isalnum():
        raise ValidationProblem(
            "送信用のキーが不正です。フォームを開き直してください / "
            "the form's submission key is missing or wrong: open the form again",
            errors={"idempotency_key": ["invalid"]},
        )
    return key


def _existing(session: Session, resident: Resident, key: str) -> Submission | None:
    query = select(Submission).where(
        Submission.resident_id == resident.id, Submission.idempotency_key == key
    )
    return session.scalars(query).first()


def _stored(store: FileStore, checked: Checked) -> dict[str, Any]:
    """The checked uploads put in the file store: name -> digest, size, type, file name."""
    files: dict[str, Any] = {}
    for name, (upload, media) in checked.files.items():
        digest, size, _path = store.put(io.BytesIO(upload.data))
        files[name] = {"sha256": digest, "size": size, "type": media, "name": upload.filename[:200]}
    return files


def _sealed(fernet: Fernet, secrets: dict[str, str]) -> str:
    """Secret values (マイナンバー) encrypted for the database; "" when there are none."""
    return fernet.encrypt(json.dumps(secrets).encode()).decode() if secrets else ""


def submit(
    session: Session,
    store: FileStore,
    fernet: Fernet,
    resident: Resident,
    form_id: str,
    *,
    raw: dict[str, str],
    uploads: dict[str, Upload],
    idempotency_key: str,
    prefer_city: str,
) -> tuple[Submission, bool]:
    """File a form. The same page sent twice (same key) gives the first submission back."""
    found = form(session, form_id)
    key = _checked_key(idempotency_key)
    earlier = _existing(session, resident, key)
    if earlier is not None:
        return earlier, False
    checked = check_values(found, raw, uploads, prefer_city=prefer_city)
    now = utcnow()
    submission = Submission(
        resident_id=resident.id,
        form_id=found.id,
        idempotency_key=key,
        department_ja=found.department_ja,
        values=checked.values,
        files=_stored(store, checked),
        secret=_sealed(fernet, checked.secrets),
        status="received",
        created_at=now,
        updated_at=now,
        received_at=now,
    )
    submission.history.append(SubmissionEvent(status="received", actor="resident", created_at=now))
    try:
        with session.begin_nested():
            session.add(submission)
            session.flush()
    except IntegrityError:
        # The same page was sent twice at once: the other request stored it.
        again = _existing(session, resident, key)
        if again is None:
            raise
        return again, False
    return submission, True


def submissions_of(session: Session, resident: Resident) -> list[Submission]:
    query = (
        select(Submission)
        .where(Submission.resident_id == resident.id)
        .order_by(Submission.id.desc())
    )
    return list(session.scalars(query))


def submission_for(session: Session, resident: Resident, submission_id: int) -> Submission:
    """One of the resident's own submissions; another's id answers 404 (tells nothing)."""
    found = session.get(Submission, submission_id)
    if found is None or found.resident_id != resident.id:
        raise _not_found()
    return found


# --- corrections of returned applications (差戻し → 再提出) ------------------------------------


def correctable(session: Session, resident: Resident, submission_id: int) -> Submission:
    """The resident's own application, to correct; another resident's answers 403."""
    found = session.get(Submission, submission_id)
    if found is None:
        raise _not_found()
    if found.resident_id != resident.id:
        raise ForbiddenProblem(
            "この申請はあなたの申請ではないため、修正できません / "
            "this application is not yours: you cannot correct it"
        )
    return found


def not_returned(found: Submission) -> ConflictProblem:
    now = STATUSES[found.status]
    return ConflictProblem(
        f"この申請は「{now[0]}」です。再提出できるのは差戻しされた申請だけです / "
        f"this application is {now[1]}: only an application returned to you can be resubmitted",
        errors={"status": [f"{now[0]} / {now[1]}"]},
    )


def return_reason(found: Submission) -> SubmissionEvent | None:
    """The staff's latest 差戻し: why the application came back to the resident."""
    returned = [e for e in found.history if e.status == "returned"]
    return returned[-1] if returned else None


def correction_values(found: Submission) -> dict[str, str]:
    """What the correction page starts from: the values as filed (secrets and files are kept)."""
    return {k: str(v) for k, v in found.values.items()}


def _changed_labels(found: Submission, checked: Checked, old_secrets: dict[str, str]) -> list[str]:
    labels = []
    for field in found.form.fields:
        name = field["name"]
        if field["type"] == "file":
            changed = name in checked.files
        elif field["type"] == "mynumber":
            changed = name in checked.secrets and checked.secrets[name] != old_secrets.get(name)
        else:
            changed = checked.values.get(name) != found.values.get(name)
        if changed:
            labels.append(field["label_ja"])
    return labels


def resubmit(
    session: Session,
    store: FileStore,
    fernet: Fernet,
    resident: Resident,
    submission_id: int,
    *,
    raw: dict[str, str],
    uploads: dict[str, Upload],
    idempotency_key: str,
    prefer_city: str,
) -> tuple[Submission, bool]:
    """Send a returned application again, corrected: the same application, its history kept,
    back to 受付 for staff. The same correction page sent twice counts once."""
    found = correctable(session, resident, submission_id)
    key = _checked_key(idempotency_key)
    if any(event.idempotency_key == key for event in found.history):
        return found, False
    if found.status != "returned":
        raise not_returned(found)
    old_secrets = secret_values(found, fernet)
    kept = frozenset(found.files) | frozenset(old_secrets)
    checked = check_values(found.form, raw, uploads, prefer_city=prefer_city, kept=kept)
    # Claim the 差戻し first: of two sends at once, one moves it on and the other finds it moved.
    # It comes in again now: received_at moves it to the top of the staff inbox.
    now = utcnow()
    claimed = session.execute(
        update(Submission)
        .where(Submission.id == found.id, Submission.status == "returned")
        .values(status="received", updated_at=now, received_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.expire(found)
        if session.scalar(
            select(SubmissionEvent.id).where(
                SubmissionEvent.submission_id == found.id, SubmissionEvent.idempotency_key == key
            )
        ):
            return found, False
        raise not_returned(found)
    changed = _changed_labels(found, checked, old_secrets)
    session.expire(found, ["status", "updated_at", "received_at"])
    found.values, found.files = checked.values, {**found.files, **_stored(store, checked)}
    found.secret = _sealed(fernet, {**old_secrets, **checked.secrets})
    found.resubmissions += 1
    comment = (
        f"再提出（修正した項目: {'、'.join(changed)}） / Resubmitted with corrections"
        if changed
        else "再提出（変更なし） / Resubmitted without changes"
    )
    found.history.append(
        SubmissionEvent(
            status="received",
            comment=comment,
            actor="resident",
            idempotency_key=key,
            created_at=now,
        )
    )
    session.flush()
    return found, True


@dataclass(frozen=True)
class Shown:
    label_ja: str
    label_en: str
    value: str


def shown_values(found: Submission, fernet: Fernet) -> list[Shown]:
    """Each field as people read it: dates also in 和暦, choices by label, マイナンバー masked."""
    secret = secret_values(found, fernet)
    rows = []
    for field in found.form.fields:
        name, kind = field["name"], field["type"]
        value = ""
        if kind == "mynumber" and name in secret:
            value = masked(secret[name])
        elif kind == "file" and name in found.files:
            info = found.files[name]
            value = f"{info['name']} ({info['size']:,} bytes)"
        elif name in found.values:
            value = str(found.values[name])
            if kind == "date":
                value = f"{jtext.to_wareki(date.fromisoformat(value))}（{value}）"
            elif kind == "choice":
                labels = {c["value"]: c["ja"] for c in field["choices"]}
                value = labels.get(value, value)
        rows.append(Shown(field["label_ja"], field["label_en"], value))
    return rows


# --- staff -----------------------------------------------------------------------------------


def departments(session: Session) -> list[str]:
    query = select(FormDefinition.department_ja).distinct().order_by(FormDefinition.department_ja)
    return list(session.scalars(query))


# The staff inbox's order: by when an application last came in (filed, or resubmitted after
# a 差戻し), newest first; the id breaks ties so the order is total and stable.
INBOX_ORDER = (Submission.received_at.desc(), Submission.id.desc())


def inbox(
    session: Session, *, department: str = "", status: str = "", limit: int = 200, offset: int = 0
) -> list[Submission]:
    """Applications for staff, the most recently received first (a resubmission comes back
    to the top), filtered by department and status; ``limit`` of them from ``offset``."""
    query = select(Submission).order_by(*INBOX_ORDER).limit(limit).offset(offset)
    if department:
        query = query.where(Submission.department_ja == department)
    if status:
        query = query.where(Submission.status == status)
    return list(session.scalars(query))


def inbox_counts(session: Session, department: str = "") -> dict[str, int]:
    query = select(Submission.status, func.count()).group_by(Submission.status)
    if department:
        query = query.where(Submission.department_ja == department)
    return {status: int(count) for status, count in session.execute(query)}


def staff_submission(
    session: Session, user: User, submission_id: int, *, via: str = "web"
) -> Submission:
    """A submission opened by staff: the read is in the audit log (personal data)."""
    found = session.get(Submission, submission_id)
    if found is None:
        raise _not_found()
    audit.record(
        session, user, "forms.submission.read", "form_submission", str(found.id),
        summary=f"{found.form.title_ja} #{found.id}", via=via,
    )  # fmt: skip
    return found


def application_url(site_url: str, submission_id: int) -> str:
    return f"{site_url.rstrip('/')}/my/applications/{submission_id}"


def change_status(
    session: Session,
    user: User,
    found: Submission,
    status: str,
    comment: str,
    *,
    site_url: str = "",
) -> Submission:
    """Move a submission along 受付 → 審査中 → 完了 / 差戻し, with an optional comment.

    A change of status is told to the applicant by e-mail (an
    :class:`ApplicationStatusChanged` after commit); a comment alone shows on my page only.
    """
    comment = comment.strip()
    if has_control_characters(comment.replace("\n", "").replace("\r", "")):
        raise _problem({"comment": [CONTROL_CHARACTER_MESSAGE]})
    if len(comment) > COMMENT_LIMIT:
        raise _problem(
            {"comment": [f"{COMMENT_LIMIT}文字までです / at most {COMMENT_LIMIT} characters"]}
        )
    if status != found.status and status not in NEXT_STATUSES[found.status]:
        now, wanted = STATUSES[found.status], STATUSES.get(status, (status, status))
        raise ConflictProblem(
            f"「{now[0]}」から「{wanted[0]}」には進められません / "
            f"cannot move from {now[1]} to {wanted[1]}",
            errors={"status": ["not allowed"]},
        )
    if status == found.status and not comment:
        raise _problem(
            {
                "comment": [
                    "状態を変えないときはコメントを書いてください / write a comment or change the status"
                ]
            }
        )
    previous = found.status
    found.status, found.updated_at = status, utcnow()
    found.history.append(SubmissionEvent(status=status, comment=comment, actor=user.name))
    audit.record(
        session, user, "forms.submission.status", "form_submission", str(found.id),
        summary=f"{STATUSES[status][0]}: {comment[:200]}",
    )  # fmt: skip
    session.flush()
    applicant = session.get(Resident, found.resident_id)
    if status != previous and applicant is not None:
        emit(
            session,
            ApplicationStatusChanged(
                submission_id=found.id,
                form_ja=found.form.title_ja,
                form_en=found.form.title_en,
                from_status=previous,
                to_status=status,
                status_ja=STATUSES[status][0],
                status_en=STATUSES[status][1],
                comment=comment,
                url=application_url(site_url, found.id),
                email=residents.mail_address(applicant),  # "" until it is confirmed
            ),
        )
    return found


def counter_token(settings: Settings, submission_id: int) -> str:
    return URLSafeTimedSerializer(settings.resolved_secret_key, salt="cityos.forms.counter").dumps(
        submission_id
    )


def counter_submission_id(settings: Settings, token: str) -> int:
    """The submission a QR code's token names; a forged or expired token answers 404."""
    serializer = URLSafeTimedSerializer(settings.resolved_secret_key, salt="cityos.forms.counter")
    try:
        found = serializer.loads(token, max_age=COUNTER_TOKEN_DAYS * 86400)
    except BadSignature as exc:
        raise _not_found() from exc
    if not isinstance(found, int):
        raise _not_found()
    return found


def too_large(limit: int) -> PayloadTooLargeProblem:
    return PayloadTooLargeProblem(too_large_message(limit))
