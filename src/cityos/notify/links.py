"""Signed links in e-mails: confirm a subscription, change its filters, unsubscribe.

A resident needs no account: holding the e-mail is what lets them manage it. Confirmation
links expire after a week; the settings and unsubscribe links in every notice e-mail do not.
"""

from __future__ import annotations

from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

CONFIRM_MAX_AGE = timedelta(days=7)
_CONFIRM_SALT = "cityos.notify.confirm"
_MANAGE_SALT = "cityos.notify.manage"


def confirm_token(secret: str, confirmation_id: str) -> str:
    """Names the confirmation e-mail (its delivery), so the link applies what it asked for."""
    return URLSafeTimedSerializer(secret, salt=_CONFIRM_SALT).dumps(confirmation_id)


def manage_token(secret: str, subscription_id: str) -> str:
    return URLSafeSerializer(secret, salt=_MANAGE_SALT).dumps(subscription_id)


def read_confirm_token(secret: str, token: str) -> str | None:
    """The confirmation id in a confirmation link, or None when forged, mangled or expired."""
    try:
        value = URLSafeTimedSerializer(secret, salt=_CONFIRM_SALT).loads(
            token, max_age=int(CONFIRM_MAX_AGE.total_seconds())
        )
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def read_manage_token(secret: str, token: str) -> str | None:
    try:
        value = URLSafeSerializer(secret, salt=_MANAGE_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def confirm_url(base_url: str, secret: str, confirmation_id: str) -> str:
    return f"{base_url}/notify/confirm/{confirm_token(secret, confirmation_id)}"


def manage_url(base_url: str, secret: str, subscription_id: str) -> str:
    return f"{base_url}/notify/manage/{manage_token(secret, subscription_id)}"


def unsubscribe_url(base_url: str, secret: str, subscription_id: str) -> str:
    return f"{base_url}/notify/unsubscribe/{manage_token(secret, subscription_id)}"


def notice_url(base_url: str, notice_id: str) -> str:
    return f"{base_url}/notify/notices/{notice_id}"
