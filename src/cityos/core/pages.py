"""Staff login and logout, API tokens and the audit log pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from cityos.core import audit, auth
from cityos.core.web import (
    SESSION_USER_KEY,
    SessionDep,
    check_csrf,
    require,
    session_user,
    staff_or_login,
)
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None, default: str = "/staff") -> str:
    """Only same-site paths, so a login form cannot send anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@router.get("/login")
def login_form(request: Request, session: SessionDep, next: str = "/staff") -> Response:
    return render(
        request, "core/login.html", {"next": safe_next(next), "needs_csrf": True}, session=session
    )


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/staff",
) -> Response:
    check_csrf(request, csrf_token)
    user = auth.authenticate(session, name, password)
    if user is None:
        return render(
            request,
            "core/login.html",
            {
                "next": safe_next(next),
                "name": name,
                "error": True,
                "needs_csrf": True,
            },
            status=401,
        )
    request.session.clear()
    request.session[SESSION_USER_KEY] = user.id
    audit.record(session, user, "user.login", "user", str(user.id))
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(request, csrf_token)
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.get("/staff/tokens")
def tokens_page(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session)
    if isinstance(user, Response):
        return user
    return render(request, "core/tokens.html", {"user": user, "tokens": user.tokens})


@router.post("/staff/tokens")
def create_token(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    user = require(session_user(request, session), "catalog.read_private")
    token = auth.issue_token(session, user, name or "web")
    audit.record(session, user, "token.create", "user", str(user.id), summary=name)
    return render(
        request, "core/tokens.html", {"user": user, "tokens": user.tokens, "new_token": token}
    )


@router.get("/staff/audit")
def audit_page(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, "audit.read")
    if isinstance(user, Response):
        return user
    return render(
        request, "core/audit.html", {"user": user, "entries": audit.recent(session, limit=200)}
    )
