"""Staff accounts, roles, password hashing and API tokens.

The password hashing here is also what resident accounts use (``residents.identity``)."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.errors import ConflictProblem, ValidationProblem
from cityos.core.models import ROLES, ApiToken, User
from cityos.db import utcnow

_hasher = PasswordHasher()
# Verified against when a name is unknown, so that a wrong name costs as long as a wrong password.
DUMMY_HASH = _hasher.hash("not-a-real-password")

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "cityos_"  # noqa: S105  (a prefix that marks our tokens, not a secret)

# What each role may do. Permissions are checked with ``can``; a new domain adds its own
# permission names here rather than testing role names in its code.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {
            "catalog.write",
            "catalog.read_private",
            "datastore.sql",
            "users.manage",
            "audit.read",
            "disaster.manage",
            "sensors.write",
            "notify.manage",
            "sns.read",
            "sns.write",
            "sns.mark",
            "reports.manage",
            "procedures.manage",
            "forms.manage",
            "reservations.manage",
            "voice.read",
            "voice.manage",
            "surveys.manage",
            "notices.manage",
            "chatbot.manage",
        }
    ),
    "staff": frozenset(
        {
            "catalog.write",
            "catalog.read_private",
            "datastore.sql",
            "disaster.manage",
            "sensors.write",
            "notify.manage",
            "sns.read",
            "sns.write",
            "sns.mark",
            "reports.manage",
            "procedures.manage",
            "forms.manage",
            "reservations.manage",
            "voice.read",
            "voice.manage",
            "surveys.manage",
            "notices.manage",
            "chatbot.manage",
        }
    ),
    "analyst": frozenset({"catalog.read_private", "datastore.sql", "sns.read", "voice.read"}),
}

ROLE_LABELS = {
    "admin": ("管理者", "Administrator"),
    "staff": ("職員", "Staff"),
    "analyst": ("分析担当", "Analyst"),
}


def can(user: User | None, permission: str) -> bool:
    return bool(user and user.active and permission in PERMISSIONS.get(user.role, frozenset()))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with older parameters (rehash at the next login)."""
    return _hasher.check_needs_rehash(password_hash)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationProblem(
            f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください / "
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
            errors={"password": ["too short"]},
        )


def create_user(
    session: Session,
    name: str,
    role: str,
    password: str,
    *,
    display_name: str = "",
    email: str = "",
) -> User:
    """Add a staff account; the name is a lower-case login id such as ``tanaka.h``."""
    if not NAME_PATTERN.match(name):
        raise ValidationProblem(
            "ユーザー名は半角英小文字・数字・._- で2〜64文字にしてください / "
            "A user name has 2-64 characters: a-z, 0-9, '.', '_' or '-'.",
            errors={"name": ["invalid"]},
        )
    if role not in ROLES:
        raise ValidationProblem(
            f"役割は {', '.join(ROLES)} のいずれかです / The role must be one of {', '.join(ROLES)}.",
            errors={"role": ["invalid"]},
        )
    check_new_password(password)
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise ConflictProblem(
            f"ユーザー {name} は既に存在します / User {name} already exists.",
            errors={"name": ["taken"]},
        )
    user = User(
        name=name,
        role=role,
        password_hash=hash_password(password),
        display_name=display_name or name,
        email=email,
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    check_new_password(password)
    user.password_hash = hash_password(password)


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, else None."""
    user = session.scalar(select(User).where(User.name == name.strip().lower()))
    if user is None:
        verify_password(DUMMY_HASH, password)
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, name: str = "") -> str:
    """Create an API token for ``user``; the plain token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            name=name,
            token_hash=_token_digest(token),
            prefix=token[: len(TOKEN_PREFIX) + 4],
        )
    )
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    token = token.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _token_digest(token), ~ApiToken.revoked)
    )
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user


def revoke_tokens(session: Session, user: User) -> int:
    count = 0
    for token in user.tokens:
        if not token.revoked:
            token.revoked = True
            count += 1
    return count


def get_user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))
