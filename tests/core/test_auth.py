"""Staff accounts, passwords, roles and API tokens."""

from __future__ import annotations

import pytest

from cityos.core import auth
from cityos.core.errors import ConflictProblem, ValidationProblem
from cityos.core.models import User
from cityos.db import Database


def test_passwords_are_stored_as_argon2_hashes(db: Database) -> None:
    with db.session() as session:
        user = auth.create_user(session, "tanaka.h", "staff", "a-good-password")
        assert user.password_hash.startswith("$argon2id$")
        assert "a-good-password" not in user.password_hash


def test_authenticate_accepts_only_the_right_password(db: Database) -> None:
    with db.session() as session:
        auth.create_user(session, "suzuki", "staff", "right-password-1")
    with db.session() as session:
        assert auth.authenticate(session, "suzuki", "wrong-password") is None
        assert auth.authenticate(session, "nobody", "right-password-1") is None
        user = auth.authenticate(session, "SUZUKI ", "right-password-1")
        assert user is not None
        assert user.last_login_at is not None


def test_disabled_accounts_cannot_log_in_or_use_tokens(db: Database) -> None:
    with db.session() as session:
        user = auth.create_user(session, "retired", "staff", "right-password-1")
        token = auth.issue_token(session, user)
        user.active = False
    with db.session() as session:
        assert auth.authenticate(session, "retired", "right-password-1") is None
        assert auth.user_for_token(session, token) is None


@pytest.mark.parametrize(
    ("name", "role", "password", "field"),
    [
        ("Bad Name", "staff", "long-enough-pw", "name"),
        ("ok-name", "mayor", "long-enough-pw", "role"),
        ("ok-name", "staff", "short", "password"),
    ],
)
def test_bad_accounts_are_refused_with_the_field_named(
    db: Database, name: str, role: str, password: str, field: str
) -> None:
    with db.session() as session, pytest.raises(ValidationProblem) as caught:
        auth.create_user(session, name, role, password)
    assert field in caught.value.errors


def test_duplicate_names_are_a_conflict(db: Database) -> None:
    with db.session() as session:
        auth.create_user(session, "sato", "staff", "long-enough-pw")
    with db.session() as session, pytest.raises(ConflictProblem):
        auth.create_user(session, "sato", "analyst", "long-enough-pw")


def test_tokens_are_shown_once_and_kept_only_as_hashes(db: Database) -> None:
    with db.session() as session:
        user = auth.create_user(session, "ito", "staff", "long-enough-pw")
        token = auth.issue_token(session, user, "etl")
        assert token.startswith("cityos_")
        assert all(token not in t.token_hash for t in user.tokens)
    with db.session() as session:
        found = auth.user_for_token(session, token)
        assert found is not None
        assert found.name == "ito"
        assert auth.user_for_token(session, f"Bearer {token}") is not None
        assert auth.user_for_token(session, token + "x") is None
        assert found.tokens[0].last_used_at is not None
        assert auth.revoke_tokens(session, found) == 1
    with db.session() as session:
        assert auth.user_for_token(session, token) is None


def test_roles_grant_what_the_role_needs() -> None:
    admin = User(name="a", role="admin", active=True)
    staff = User(name="s", role="staff", active=True)
    analyst = User(name="n", role="analyst", active=True)
    assert auth.can(admin, "users.manage")
    assert auth.can(staff, "catalog.write")
    assert not auth.can(staff, "users.manage")
    assert not auth.can(analyst, "catalog.write")
    assert auth.can(analyst, "datastore.sql")
    assert not auth.can(None, "catalog.write")
