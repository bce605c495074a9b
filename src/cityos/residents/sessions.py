"""The resident session: its own signed cookie, apart from the staff session.

The cookie holds the account id and the account's ``session_epoch``, signed and timestamped
with the installation's secret key (itsdangerous, which Starlette's own sessions use). Raising
the epoch (logout, account deletion) invalidates every cookie issued before.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy.orm import Session

from cityos.core.web import settings_of
from cityos.residents.models import Resident

COOKIE = "cityos_resident"
MAX_AGE_S = 14 * 24 * 3600
_SALT = "cityos.resident-session"


def _signer(request: Request) -> TimestampSigner:
    return TimestampSigner(settings_of(request).resolved_secret_key, salt=_SALT)


def current_resident(request: Request, session: Session) -> Resident | None:
    """The resident this request's cookie names, if the cookie is genuine and still valid."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        value = _signer(request).unsign(raw, max_age=MAX_AGE_S).decode()
    except (BadSignature, UnicodeDecodeError):
        return None
    resident_id, _, epoch = value.partition(".")
    if not (resident_id.isdigit() and epoch.isdigit()):
        return None
    resident = session.get(Resident, int(resident_id))
    if resident is None or resident.session_epoch != int(epoch):
        return None
    return resident


class SignInRequired(Exception):
    """Raised where a page needs a signed-in resident; the app answers with the login page."""


def signed_in_resident(request: Request, session: Session) -> Resident:
    """The signed-in resident, or :class:`SignInRequired` (a redirect to login and back)."""
    resident = current_resident(request, session)
    if resident is None:
        raise SignInRequired
    return resident


def start(request: Request, response: Response, resident: Resident) -> None:
    value = _signer(request).sign(f"{resident.id}.{resident.session_epoch}").decode()
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=settings_of(request).secure_cookies,
    )


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="lax")


def to_login(request: Request) -> Response:
    """Send a resident who is not signed in to the login page, and back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/residents/login?" + urlencode({"next": target}), status_code=303)


def sign_in_redirect(request: Request, _exc: Exception) -> Response:
    """The app's answer to :class:`SignInRequired`."""
    return to_login(request)
