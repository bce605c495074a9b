"""Resident accounts, profiles, household members and saved checklists: plain functions.

Everything here acts for one resident on their own data: each lookup takes the resident and
answers 404 for a row that is not theirs, so another resident's ids tell nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityos.address import service as address
from cityos.core import auth
from cityos.core import text as jtext
from cityos.core.errors import ConflictProblem, NotFoundProblem, ProblemError, ValidationProblem
from cityos.core.ratelimit import TooManyRequestsProblem
from cityos.core.web import CONTROL_CHARACTER_MESSAGE, has_control_characters
from cityos.db import utcnow
from cityos.notify import service as notify
from cityos.procedures import service as procedures
from cityos.residents.identity import PROVIDERS, IdentityClaim
from cityos.residents.models import (
    RELATIONS,
    HouseholdMember,
    Resident,
    ResidentProfile,
    SavedChecklist,
)

NAME_LIMIT = 100
ADDRESS_LIMIT = 300
MEMBER_LIMIT = 20
CHECKLIST_LIMIT = 50
OLDEST_BIRTH_YEAR = 1900


def _problem(errors: dict[str, list[str]]) -> ValidationProblem:
    if len(errors) == 1:
        return ValidationProblem(next(iter(errors.values()))[0], errors=errors)
    fields = ", ".join(errors)
    return ValidationProblem(
        f"入力内容に誤りがあります: {fields} / please check: {fields}", errors=errors
    )


# --- accounts ----------------------------------------------------------------------------------


def sign_up(session: Session, email: str, password: str) -> Resident:
    """A new account; 409 when the address already has one (nothing else is told)."""
    errors: dict[str, list[str]] = {}
    normalized = ""
    try:
        normalized = notify.normalize_email(email)
    except ValidationProblem as exc:
        errors.update(exc.errors)
    try:
        auth.check_new_password(password)
    except ValidationProblem as exc:
        errors["password"] = [exc.detail]
    if errors:
        raise _problem(errors)
    taken = ConflictProblem(
        "このメールアドレスは既に登録されています。ログインしてください / an account with "
        "this e-mail address already exists: please log in",
        errors={"email": ["既に登録されています / already registered"]},
    )
    if session.scalar(select(Resident.id).where(Resident.email == normalized)) is not None:
        raise taken
    resident = Resident(email=normalized, password_hash=auth.hash_password(password))
    try:
        # Two sign-ups racing with one address: the unique index lets one through.
        with session.begin_nested():
            session.add(resident)
            session.flush()
    except IntegrityError:
        raise taken from None
    return resident


# --- confirming the e-mail address ----------------------------------------------------------

CONFIRM_MAX_AGE = timedelta(days=3)
RESEND_INTERVAL = timedelta(minutes=2)
CONFIRM_SALT = "cityos.residents.email-confirm"


def is_confirmed(resident: Resident) -> bool:
    return resident.email_confirmed_at is not None


def mail_address(resident: Resident) -> str:
    """Where e-mails to the resident may go: their address once confirmed, else nowhere ("")."""
    return resident.email if is_confirmed(resident) else ""


def address_to_confirm(resident: Resident) -> str:
    """The address waiting for its link: a new one asked for, else an unconfirmed own one."""
    if resident.pending_email:
        return resident.pending_email
    return "" if is_confirmed(resident) else resident.email


def confirmation_token(secret: str, resident: Resident, address: str) -> str:
    return URLSafeTimedSerializer(secret, salt=CONFIRM_SALT).dumps([resident.id, address])


def confirmation_url(site_url: str, secret: str, resident: Resident, address: str) -> str:
    token = confirmation_token(secret, resident, address)
    return f"{site_url.rstrip('/')}/residents/confirm/{token}"


def confirmation_email(url: str) -> tuple[str, str]:
    subject = "【三鷹市】メールアドレスの確認 / Please confirm your e-mail address"
    days = CONFIRM_MAX_AGE.days
    body = (
        "【日本語】\n"
        "三鷹市 City OS のアカウントに、このメールアドレスが登録されました。\n"
        f"次のリンクを開いて、メールアドレスを確認してください（{days}日間有効）。\n\n"
        f"{url}\n\n"
        "確認が済むまで、申請の状況やお知らせ、予約のリマインダーはメールで届きません。\n"
        "心当たりがない場合は、このメールを破棄してください。\n\n"
        "[English]\n"
        "This e-mail address was given for a Mitaka City OS account.\n"
        f"Open the link above to confirm it (valid for {days} days).\n"
        "Until then, no application updates, notices or booking reminders are e-mailed.\n"
        "If you did not ask for this, ignore this e-mail."
    )
    return subject, body


def _too_soon(wait: timedelta) -> TooManyRequestsProblem:
    seconds = max(1, int(wait.total_seconds()) + 1)
    return TooManyRequestsProblem(
        f"確認メールは少し前に送りました。{seconds} 秒後にもう一度お試しください / "
        f"a confirmation e-mail was sent a moment ago: try again in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


def send_confirmation(
    session: Session,
    resident: Resident,
    *,
    site_url: str,
    secret: str,
    now: datetime | None = None,
    resend: bool = False,
) -> str:
    """Queue the e-mail with the resident's confirmation link (through notify); the address.

    A resend is refused while the last link is younger than ``RESEND_INTERVAL``, and when
    nothing waits for confirmation.
    """
    now = now or utcnow()
    address = address_to_confirm(resident)
    if not address:
        raise ConflictProblem(
            "メールアドレスは確認済みです / your e-mail address is already confirmed"
        )
    last = resident.confirmation_sent_at
    if resend and last is not None and now - last < RESEND_INTERVAL:
        raise _too_soon(RESEND_INTERVAL - (now - last))
    subject, body = confirmation_email(confirmation_url(site_url, secret, resident, address))
    queued = notify.queue_direct_email(
        session, address, subject, body, kind="confirmation", now=now
    )
    if queued is None:
        raise ConflictProblem(
            "このアドレスあての City OS の確認メールは配信停止になっています。"
            "別のアドレスを登録してください / City OS confirmation e-mails to this address were "
            "stopped (unsubscribed): use another address"
        )
    resident.confirmation_sent_at = now
    session.flush()
    return address


def _unconfirmed() -> ConflictProblem:
    return ConflictProblem(
        "メールの受け取りを設定するには、先にメールアドレスを確認してください / confirm your "
        "e-mail address first: then you can choose which e-mails you receive"
    )


def email_preferences(session: Session, resident: Resident) -> dict[str, bool] | None:
    """Kind of direct e-mail → whether it reaches the resident's confirmed address (None: no
    confirmed address yet, so nothing is e-mailed at all)."""
    address = mail_address(resident)
    return notify.direct_preferences(session, address) if address else None


def set_email_preferences(
    session: Session, resident: Resident, wanted: Iterable[str]
) -> dict[str, bool]:
    """Receive exactly the ``wanted`` kinds of direct e-mail at the confirmed address.

    Only a confirmed address: the confirmation proves the resident owns it, which is what
    allows turning e-mail back on that someone (perhaps they) stopped with a link.
    """
    address = mail_address(resident)
    if not address:
        raise _unconfirmed()
    return notify.set_direct_preferences(session, address, wanted)


class ConfirmationProblem(ProblemError):
    status = 400
    type_slug = "confirmation-link"
    title = "Confirmation link not valid / 確認リンクが使えません"


def confirm_email(session: Session, secret: str, token: str) -> Resident:
    """Apply a confirmation link: the address it names becomes the resident's confirmed one."""
    try:
        value = URLSafeTimedSerializer(secret, salt=CONFIRM_SALT).loads(
            token, max_age=int(CONFIRM_MAX_AGE.total_seconds())
        )
    except SignatureExpired as exc:
        raise ConfirmationProblem(
            "確認リンクの有効期限が切れています。マイページから確認メールを送り直してください / "
            "this confirmation link has expired: send a new one from your my page"
        ) from exc
    except BadSignature as exc:
        raise ConfirmationProblem(
            "確認リンクが正しくありません。メールのリンクを省略せずに開いてください / "
            "this confirmation link is not valid: open the whole link from the e-mail"
        ) from exc
    resident_id, address = value if isinstance(value, list) and len(value) == 2 else (None, None)
    resident = session.get(Resident, resident_id) if isinstance(resident_id, int) else None
    if resident is None or not isinstance(address, str):
        raise ConfirmationProblem(
            "このリンクのアカウントは見つかりません / the account of this link no longer exists"
        )
    if address == resident.email:
        if resident.email_confirmed_at is None:
            resident.email_confirmed_at = utcnow()
    elif address == resident.pending_email:
        taken = session.scalar(
            select(Resident.id).where(Resident.email == address, Resident.id != resident.id)
        )
        if taken is not None:
            raise ConflictProblem(
                "このメールアドレスは別のアカウントで使われています / "
                "this e-mail address is used by another account"
            )
        resident.email, resident.pending_email = address, ""
        resident.email_confirmed_at = utcnow()
    else:
        raise ConfirmationProblem(
            "このリンクは古くなっています（メールアドレスがその後変わりました） / "
            "this link is out of date: the e-mail address was changed since"
        )
    session.flush()
    return resident


def change_email(session: Session, resident: Resident, email: str, password: str) -> str:
    """Ask for a new address: it waits for its own confirmation, the old one stays in use."""
    errors: dict[str, list[str]] = {}
    normalized = ""
    try:
        normalized = notify.normalize_email(email)
    except ValidationProblem as exc:
        errors["email"] = list(exc.errors.get("email", [exc.detail]))
    if not auth.verify_password(resident.password_hash, password):
        errors["password"] = ["パスワードが違います / the password is not correct"]
    if errors:
        raise _problem(errors)
    if normalized == resident.email:
        raise _problem(
            {"email": ["今のメールアドレスと同じです / this is your current address already"]}
        )
    if session.scalar(select(Resident.id).where(Resident.email == normalized)) is not None:
        raise ConflictProblem(
            "このメールアドレスは別のアカウントで使われています / "
            "this e-mail address is used by another account",
            errors={"email": ["既に登録されています / already registered"]},
        )
    resident.pending_email = normalized
    resident.confirmation_sent_at = None  # a new address gets its link at once
    session.flush()
    return normalized


def log_in(session: Session, email: str, password: str) -> Resident | None:
    """The resident whose e-mail and password these are, else None."""
    verified = PROVIDERS["password"].verify(session, IdentityClaim(login=email, secret=password))
    return verified.resident if verified else None


def end_sessions(resident: Resident) -> None:
    """Every session cookie issued so far stops working (logout everywhere)."""
    resident.session_epoch += 1


def delete_account(session: Session, resident: Resident, password: str) -> None:
    """Delete the account and everything it owns, for real (the password confirms it)."""
    if not auth.verify_password(resident.password_hash, password):
        raise ValidationProblem(
            "パスワードが違います / the password is not correct",
            errors={"password": ["パスワードが違います / the password is not correct"]},
        )
    session.delete(resident)
    session.flush()


# --- profile -------------------------------------------------------------------------------------


def parse_birth_date(value: str, field: str, errors: dict[str, list[str]]) -> date | None:
    """A birth date written in 西暦 or 和暦 (core.text), which must exist and be past."""
    value = value.strip()
    if not value:
        return None
    try:
        born = jtext.parse_date(value)
    except ValueError as exc:
        errors[field] = [
            "存在する日付を 1985-04-01 や 昭和60年4月1日 の形で入力してください / "
            f"enter a real date such as 1985-04-01 or 昭和60年4月1日 ({exc})"
        ]
        return None
    if born > date.today() or born.year < OLDEST_BIRTH_YEAR:
        errors[field] = [
            "生年月日が未来か、古すぎます / the birth date is in the future or too long ago"
        ]
        return None
    return born


def _kana(value: str, field: str, errors: dict[str, list[str]]) -> str:
    if not value.strip():
        return ""
    try:
        kana = jtext.katakana_name(value)
    except ValueError:
        errors[field] = [
            "フリガナはカタカナ（またはひらがな）で入力してください / "
            "write the reading in katakana (or hiragana)"
        ]
        return ""
    if len(kana) > NAME_LIMIT:
        errors[field] = [f"{NAME_LIMIT}文字までです / at most {NAME_LIMIT} characters"]
    return kana


def _name(value: str, field: str, errors: dict[str, list[str]], *, required: bool) -> str:
    if has_control_characters(value):
        errors[field] = [CONTROL_CHARACTER_MESSAGE]
        return ""
    name = " ".join(jtext.normalize(value).split())
    if required and not name:
        errors[field] = ["必須です / required"]
    elif len(name) > NAME_LIMIT:
        errors[field] = [f"{NAME_LIMIT}文字までです / at most {NAME_LIMIT} characters"]
    return name


@dataclass(frozen=True)
class ProfileInput:
    name: str = ""
    kana: str = ""
    birth_date: str = ""
    address: str = ""


def update_profile(
    session: Session, resident: Resident, given: ProfileInput, *, prefer_city: str
) -> ResidentProfile:
    """Check every field, then save them all (or none)."""
    errors: dict[str, list[str]] = {}
    name = _name(given.name, "name", errors, required=False)
    kana = _kana(given.kana, "kana", errors)
    born = parse_birth_date(given.birth_date, "birth_date", errors)
    written = " ".join(given.address.split())
    normalized: dict[str, Any] = {}
    if has_control_characters(written):
        errors["address"] = [CONTROL_CHARACTER_MESSAGE]
    elif len(written) > ADDRESS_LIMIT:
        errors["address"] = [f"{ADDRESS_LIMIT}文字までです / at most {ADDRESS_LIMIT} characters"]
    elif written:
        found = address.normalize(written, prefer_city=prefer_city)
        if found.level < address.LEVEL_CITY:
            errors["address"] = [
                "住所を市区町村まで確認できませんでした（例: 東京都三鷹市下連雀3-22-14） / "
                "the address was not recognized down to the city (e.g. 東京都三鷹市下連雀3-22-14)"
            ]
        normalized = found.as_dict(extras=False)
    if errors:
        raise _problem(errors)
    profile = resident.profile or ResidentProfile(resident=resident)
    profile.name, profile.kana, profile.birth_date = name, kana, born
    profile.address_input, profile.address = written, normalized
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    return profile


def formatted_address(profile: ResidentProfile | None) -> str:
    """The normalized address as one line: 東京都三鷹市下連雀三丁目22-14 2F."""
    if profile is None or not profile.address:
        return ""
    return address_line(profile.address)


def address_line(normalized: dict[str, Any]) -> str:
    """A normalized address (``Address.as_dict``) as one line, as forms and pages show it."""
    parts = [normalized.get(k) or "" for k in ("pref", "city", "town", "addr")]
    line = "".join(parts)
    other = normalized.get("other") or ""
    return f"{line} {other}".strip()


def add_member(
    session: Session, resident: Resident, *, name: str, kana: str, relation: str, birth_date: str
) -> HouseholdMember:
    errors: dict[str, list[str]] = {}
    clean_name = _name(name, "member_name", errors, required=True)
    clean_kana = _kana(kana, "member_kana", errors)
    born = parse_birth_date(birth_date, "member_birth_date", errors)
    if relation not in RELATIONS:
        errors["member_relation"] = ["続柄を選んでください / choose the relation"]
    if len(resident.members) >= MEMBER_LIMIT:
        errors["member_name"] = [f"{MEMBER_LIMIT}人までです / at most {MEMBER_LIMIT} people"]
    if errors:
        raise _problem(errors)
    member = HouseholdMember(
        resident=resident, name=clean_name, kana=clean_kana, relation=relation, birth_date=born
    )
    session.add(member)
    session.flush()
    return member


def _not_found() -> NotFoundProblem:
    return NotFoundProblem("見つかりません / not found")


def remove_member(session: Session, resident: Resident, member_id: int) -> None:
    member = session.get(HouseholdMember, member_id)
    if member is None or member.resident_id != resident.id:
        raise _not_found()
    session.delete(member)
    session.flush()


# --- checklists ----------------------------------------------------------------------------------


def save_checklist(
    session: Session, resident: Resident, answers: procedures.NaviAnswers
) -> SavedChecklist:
    """Keep a 手続きナビ checklist on the resident's page (the same answers once)."""
    query = answers.as_query()
    for saved in resident.checklists:
        if saved.answers == query:
            return saved
    if len(resident.checklists) >= CHECKLIST_LIMIT:
        raise ConflictProblem(
            f"保存できるチェックリストは{CHECKLIST_LIMIT}件までです。古いものを削除してください / "
            f"at most {CHECKLIST_LIMIT} saved checklists: delete an old one first"
        )
    items = procedures.checklist(session, answers)
    saved = SavedChecklist(
        resident=resident,
        event=answers.event,
        answers=query,
        procedure_ids=[item.procedure.id for item in items],
    )
    session.add(saved)
    session.flush()
    return saved


def checklist(session: Session, resident: Resident, checklist_id: int) -> SavedChecklist:
    saved = session.get(SavedChecklist, checklist_id)
    if saved is None or saved.resident_id != resident.id:
        raise _not_found()
    return saved


def remove_checklist(session: Session, resident: Resident, checklist_id: int) -> None:
    session.delete(checklist(session, resident, checklist_id))
    session.flush()


# --- export --------------------------------------------------------------------------------------


def export(resident: Resident) -> dict[str, Any]:
    """Everything the city keeps about the resident's account, as JSON values."""
    profile = resident.profile
    return {
        "account": {
            "email": resident.email,
            "created_at": resident.created_at.isoformat(),
            "last_login_at": resident.last_login_at.isoformat() if resident.last_login_at else None,
            "identity_method": resident.identity_method,
            "email_confirmed_at": resident.email_confirmed_at.isoformat()
            if resident.email_confirmed_at
            else None,
            "pending_email": resident.pending_email,
        },
        "profile": {
            "name": profile.name if profile else "",
            "kana": profile.kana if profile else "",
            "birth_date": profile.birth_date.isoformat()
            if profile and profile.birth_date
            else None,
            "address_input": profile.address_input if profile else "",
            "address": dict(profile.address) if profile else {},
        },
        "household": [
            {
                "name": m.name,
                "kana": m.kana,
                "relation": m.relation,
                "birth_date": m.birth_date.isoformat() if m.birth_date else None,
            }
            for m in resident.members
        ],
        "checklists": [
            {
                "event": c.event,
                "answers": dict(c.answers),
                "procedures": list(c.procedure_ids),
                "saved_at": c.created_at.isoformat(),
            }
            for c in resident.checklists
        ],
    }
