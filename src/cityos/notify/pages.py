"""Pages of the notify domain: how residents subscribe and manage their notices, the notice
pages and Atom feed, and the staff console. Thin: all logic is in ``service``."""

from __future__ import annotations

from typing import Annotated, Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.errors import ProblemError, ValidationProblem
from cityos.core.models import User
from cityos.core.web import (
    SessionDep,
    check_csrf,
    database_of,
    settings_of,
    staff_or_login,
)
from cityos.db import utcnow
from cityos.notify import filters, kinds, links, service
from cityos.notify.config import NotifyConfig
from cityos.notify.models import CHANNELS, Subscription
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
Texts = Annotated[list[str], Form()]
Text = Annotated[str, Form(max_length=service.BODY_LIMIT)]
ShortText = Annotated[str, Form(max_length=service.URL_LIMIT)]
ATOM = "http://www.w3.org/2005/Atom"
# Where the staff console's forms (which POST elsewhere) bring a person back after logging in.
STAFF_PAGE = "/staff/notify"

CHANNEL_LABELS = {
    "email": ("メール", "E-mail"),
    "webhook": ("Webhook", "Webhook"),
    "line": ("LINE", "LINE"),
    "webpush": ("ブラウザ通知", "Web Push"),
}
STATUS_LABELS = {
    "queued": ("送信待ち", "Queued"),
    "sending": ("送信中", "Sending"),
    "sent": ("送信済み", "Sent"),
    "failed": ("失敗", "Failed"),
    "unknown": ("不明", "Unknown"),
    "cancelled": ("取り消し", "Cancelled"),
    "pending": ("確認待ち", "Pending"),
    "active": ("有効", "Active"),
    "unsubscribed": ("解除", "Unsubscribed"),
    "gone": ("失効", "Expired"),
}


def _config(request: Request) -> NotifyConfig:
    return service.notify_config(settings_of(request))


def _labels(**extra: Any) -> dict[str, Any]:
    """Helpers every notify template may use."""
    return {
        "topic_label": filters.topic_label,
        "towns_label": filters.towns_label,
        "town_label": filters.town_label,
        **extra,
    }


def _filter_context(**extra: Any) -> dict[str, Any]:
    """What the filter fields of every form need."""
    return {
        **_labels(),
        "towns": filters.towns(),
        "topics": filters.TOPICS,
        "languages": filters.LANGUAGES,
        "needs_csrf": True,
        "errors": {},
        **extra,
    }


def _split_towns(checked: list[str], extra: str) -> list[str]:
    """Checked 町 plus the free text field (下連雀三丁目, しもれんじゃく ...)."""
    written = [w for w in extra.replace("、", " ").replace(",", " ").split() if w]
    return [*checked, *written]


def _values(subscription: Subscription | None, **given: Any) -> dict[str, Any]:
    """The form's values: what was typed, else the subscription's filters."""
    if subscription is not None and not given:
        towns = list(subscription.towns)
        base_names = {t.name for t in filters.towns()}
        return {
            "towns": [t for t in towns if t in base_names],
            "other_towns": " ".join(t for t in towns if t not in base_names),
            "topics": list(subscription.topics),
            "language": subscription.language,
        }
    return {
        "towns": given.get("towns", []),
        "other_towns": given.get("other_towns", ""),
        "topics": given.get("topics", ["disaster"]),
        "language": given.get("language", "ja"),
        "email": given.get("email", ""),
    }


# --- public pages ----------------------------------------------------------------------------


@router.get("/notify")
def notify_home(request: Request, session: SessionDep) -> Response:
    return render(
        request,
        "notify/home.html",
        _labels(
            notices=service.recent_notices(session, 10),
            line_configured=_config(request).line_configured,
        ),
        session=session,
    )


@router.get("/notify/notices.atom")
def notices_feed(request: Request, session: SessionDep) -> Response:
    """Atom 1.0 feed of recent notices: readable by any feed reader, cacheable by proxies."""
    base = _config(request).base_url
    notices = service.recent_notices(session, 50)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "ja"})

    def add(parent: ET.Element, tag: str, text: str = "", **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text:
            element.text = text
        return element

    add(feed, "id", f"{base}/notify/notices.atom")
    add(feed, "title", "三鷹市からのお知らせ / Notices from Mitaka City")
    add(feed, "updated", (notices[0].created_at if notices else utcnow()).isoformat())
    add(feed, "link", rel="self", href=f"{base}/notify/notices.atom")
    add(feed, "link", rel="alternate", href=f"{base}/notify")
    author = add(feed, "author")
    add(author, "name", settings_of(request).city_name_ja)
    for notice in notices:
        entry = add(feed, "entry")
        add(entry, "id", f"urn:uuid:{notice.id}")
        add(entry, "title", notice.title_ja + (f" / {notice.title_en}" if notice.title_en else ""))
        add(entry, "updated", notice.created_at.isoformat())
        add(entry, "link", rel="alternate", href=links.notice_url(base, notice.id))
        topic = filters.TOPICS.get(notice.topic)
        add(entry, "category", term=notice.topic, label=topic.ja if topic else notice.topic)
        body = notice.body_ja + (f"\n\n{notice.body_en}" if notice.body_en else "")
        add(entry, "content", body, type="text")
    xml = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(
        xml,
        media_type="application/atom+xml; charset=utf-8",
        headers={"Cache-Control": "public, max-age=60"},
    )


@router.get("/notify/notices/{notice_id}")
def notice_page(request: Request, notice_id: str, session: SessionDep) -> Response:
    notice = service.get_notice(session, notice_id)
    return render(request, "notify/notice.html", _labels(notice=notice), session=session)


@router.get("/notify/subscribe")
def subscribe_form(request: Request, session: SessionDep) -> Response:
    return render(
        request, "notify/subscribe.html", _filter_context(values=_values(None)), session=session
    )


@router.post("/notify/subscribe")
def subscribe_submit(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)] = "",
    towns: Texts = [],  # noqa: B006 (FastAPI copies defaults)
    other_towns: Annotated[str, Form(max_length=500)] = "",
    topics: Texts = [],  # noqa: B006
    language: Annotated[str, Form(max_length=20)] = "ja",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        signup = service.subscribe_email(
            session,
            email,
            towns=_split_towns(towns, other_towns),
            topics=topics,
            language=language,
        )
    except ValidationProblem as exc:
        values = _values(
            None,
            email=email,
            towns=towns,
            other_towns=other_towns,
            topics=topics,
            language=language,
        )
        context = _filter_context(values=values, errors=exc.errors, error=exc.detail)
        return render(request, "notify/subscribe.html", context, session=session, status=422)
    session.commit()
    if signup.delivery is not None:
        background.add_task(
            service.deliver_now, database_of(request), _config(request), [signup.delivery.id]
        )
    return render(request, "notify/subscribe_sent.html", {"email": email.strip()}, session=session)


def _link_error(request: Request, session: Session) -> Response:
    return render(
        request,
        "error.html",
        {
            "title": "リンクが無効です / This link is not valid",
            "message": "リンクが壊れているか、有効期限（7日間）が切れています。もう一度登録してください。"
            " / The link is broken or has expired (7 days). Please subscribe again.",
        },
        session=session,
        status=404,
    )


@router.get("/notify/confirm/{token}")
def confirm_form(request: Request, token: str, session: SessionDep) -> Response:
    if links.read_confirm_token(_config(request).secret_key, token) is None:
        return _link_error(request, session)
    return render(
        request, "notify/confirm.html", {"token": token, "needs_csrf": True}, session=session
    )


@router.post("/notify/confirm/{token}")
def confirm_submit(
    request: Request, token: str, session: SessionDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(request, csrf_token)
    config = _config(request)
    confirmation = links.read_confirm_token(config.secret_key, token)
    if confirmation is None:
        return _link_error(request, session)
    subscription = service.confirm_subscription(session, confirmation)
    manage = links.manage_url(config.base_url, config.secret_key, subscription.id)
    return render(
        request,
        "notify/confirmed.html",
        _labels(subscription=subscription, manage_url=manage),
        session=session,
    )


def _managed(request: Request, session: Session, token: str) -> Subscription | None:
    found = links.read_manage_token(_config(request).secret_key, token)
    if found is None:
        return None
    try:
        subscription = service.get_subscription(session, found)
    except ProblemError:
        return None
    return subscription


@router.get("/notify/manage/{token}")
def manage_form(request: Request, token: str, session: SessionDep) -> Response:
    subscription = _managed(request, session, token)
    if subscription is None:
        return _link_error(request, session)
    context = _filter_context(token=token, subscription=subscription, values=_values(subscription))
    return render(request, "notify/manage.html", context, session=session)


@router.post("/notify/manage/{token}")
def manage_submit(
    request: Request,
    token: str,
    session: SessionDep,
    towns: Texts = [],  # noqa: B006
    other_towns: Annotated[str, Form(max_length=500)] = "",
    topics: Texts = [],  # noqa: B006
    language: Annotated[str, Form(max_length=20)] = "ja",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    subscription = _managed(request, session, token)
    if subscription is None:
        return _link_error(request, session)
    values = _values(None, towns=towns, other_towns=other_towns, topics=topics, language=language)
    try:
        service.update_filters(
            session,
            subscription,
            towns=_split_towns(towns, other_towns),
            topics=topics,
            language=language,
        )
    except ValidationProblem as exc:
        context = _filter_context(
            token=token, subscription=subscription, values=values, errors=exc.errors,
            error=exc.detail,
        )  # fmt: skip
        return render(request, "notify/manage.html", context, session=session, status=422)
    context = _filter_context(
        token=token, subscription=subscription, values=_values(subscription), saved=True
    )
    return render(request, "notify/manage.html", context, session=session)


def _unsubscribe_context(session: Session, subscription: Subscription) -> dict[str, Any]:
    """What the unsubscribe pages say: for a direct e-mail, which kind the link stops."""
    kind = service.direct_kind(subscription)
    if kind is None:
        return {"direct": None}
    others = [label for k, label in kinds.DIRECT_KINDS.items() if k != kind]
    all_stopped = service.direct_all_stopped(session, subscription)
    return {
        "direct": kinds.label(kind),
        "direct_all": kind == kinds.ALL_DIRECT,
        "others_ja": "、".join(f"「{o.ja}」" for o in others),
        "others_en": ", ".join(o.en for o in others),
        "all_stopped": all_stopped,
        "all_label": kinds.ALL_DIRECT_LABEL,
        # Without an account, one can still sign up with the address and turn e-mails back
        # on, unless its confirmation links are stopped too (then only the city can help).
        "can_sign_up": kind not in (kinds.ALL_DIRECT, "confirmation") and not all_stopped,
    }


@router.get("/notify/unsubscribe/{token}")
def unsubscribe_form(request: Request, token: str, session: SessionDep) -> Response:
    subscription = _managed(request, session, token)
    if subscription is None:
        return _link_error(request, session)
    context = _labels(
        token=token,
        subscription=subscription,
        needs_csrf=True,
        **_unsubscribe_context(session, subscription),
    )
    return render(request, "notify/unsubscribe.html", context, session=session)


@router.post("/notify/unsubscribe/{token}")
async def unsubscribe_submit(request: Request, token: str) -> Response:
    """The page's buttons, or a mail client's RFC 8058 one-click POST (no session there: the
    signed link itself is the proof). A direct e-mail's link stops its kind only, unless the
    page's second button (``scope=all``) asks to stop every direct e-mail to the address."""
    form = await request.form()
    one_click = form.get("List-Unsubscribe") == "One-Click"
    if not one_click:
        check_csrf(request, form.get("csrf_token"))
    with database_of(request).session() as session:
        subscription = _managed(request, session, token)
        if subscription is None:
            return _link_error(request, session)
        kind = service.direct_kind(subscription)
        everything = kind == kinds.ALL_DIRECT or (kind is not None and form.get("scope") == "all")
        if everything:
            service.stop_all_direct_email(session, subscription)
        elif subscription.status != "unsubscribed":
            service.unsubscribe(session, subscription)
        if one_click:
            return Response(status_code=200)
        context = _unsubscribe_context(session, subscription)
        return render(request, "notify/unsubscribed.html", context, session=session)


@router.get("/notify/push")
def push_page(request: Request, session: SessionDep) -> Response:
    context = _filter_context(values=_values(None), vapid_key=_config(request).vapid_public_key)
    return render(request, "notify/push.html", context, session=session)


# --- staff console ---------------------------------------------------------------------------


def _staff_context(session: Session, user: User, **extra: Any) -> dict[str, Any]:
    notices = service.recent_notices(session, 20)
    context: dict[str, Any] = {
        "user": user,
        "notices": notices,
        "counts": service.delivery_counts(session, [n.id for n in notices]),
        "problems": service.problem_deliveries(session, 50),
        "summary": service.subscription_summary(session),
        "queue": service.queue_counts(session),
        "webhooks": service.list_webhooks(session, user),
        "channels": CHANNELS,
        "channel_labels": CHANNEL_LABELS,
        "status_labels": STATUS_LABELS,
        "direct_label": kinds.label,
        "mask": service.mask_address,
        "values": _values(None, topics=["disaster"]),
        "notice_values": {},
        "webhook_values": {},
        "webhook_errors": {},
    }
    context.update(extra)
    return _filter_context(**context)


@router.get("/staff/notify")
def staff_page(request: Request, session: SessionDep) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION)
    if isinstance(user, Response):
        return user
    sent = request.query_params.get("sent", "")
    return render(
        request,
        "notify/staff.html",
        _staff_context(session, user, sent=sent[:36], message=request.query_params.get("done", "")),
    )


@router.post("/staff/notify/notices")
def staff_send_notice(
    request: Request,
    session: SessionDep,
    topic: Annotated[str, Form(max_length=50)] = "",
    towns: Texts = [],  # noqa: B006
    other_towns: Annotated[str, Form(max_length=500)] = "",
    title_ja: Annotated[str, Form(max_length=1000)] = "",
    body_ja: Text = "",
    title_en: Annotated[str, Form(max_length=1000)] = "",
    body_en: Text = "",
    title_easy: Annotated[str, Form(max_length=1000)] = "",
    body_easy: Text = "",
    url: ShortText = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION, next_path=STAFF_PAGE)
    if isinstance(user, Response):
        return user
    check_csrf(request, csrf_token)
    fields = {
        "title_ja": title_ja, "body_ja": body_ja, "title_en": title_en, "body_en": body_en,
        "title_easy": title_easy, "body_easy": body_easy, "url": url,
    }  # fmt: skip
    try:
        notice = service.send_staff_notice(
            session,
            user,
            service.NoticeInput(topic=topic, towns=_split_towns(towns, other_towns), **fields),
        )
    except ValidationProblem as exc:
        values = _values(None, towns=towns, other_towns=other_towns, topics=[topic])
        context = _staff_context(
            session, user, values=values, notice_values=fields, errors=exc.errors,
            error=exc.detail,
        )  # fmt: skip
        return render(request, "notify/staff.html", context, status=422)
    return RedirectResponse(f"/staff/notify?sent={notice.id}#notices", status_code=303)


@router.post("/staff/notify/webhooks")
def staff_add_webhook(
    request: Request,
    session: SessionDep,
    url: ShortText = "",
    secret: Annotated[str, Form(max_length=500)] = "",
    label: Annotated[str, Form(max_length=500)] = "",
    topics: Texts = [],  # noqa: B006
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION, next_path=STAFF_PAGE)
    if isinstance(user, Response):
        return user
    check_csrf(request, csrf_token)
    try:
        subscription, made_secret = service.create_webhook(
            session,
            user,
            service.WebhookInput(url=url, secret=secret, label=label, topics=topics),
            allow_private=_config(request).notify_allow_private_targets,
        )
    except ValidationProblem as exc:
        context = _staff_context(
            session, user, webhook_values={"url": url, "label": label, "topics": topics},
            webhook_errors=exc.errors, webhook_error=exc.detail,
        )  # fmt: skip
        return render(request, "notify/staff.html", context, status=422)
    context = _staff_context(
        session, user, new_webhook=subscription, new_secret=made_secret if not secret else ""
    )
    return render(request, "notify/staff.html", context, status=201)


@router.post("/staff/notify/deliveries/{delivery_id}/requeue")
def staff_requeue(
    request: Request,
    delivery_id: str,
    session: SessionDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    user = staff_or_login(request, session, service.MANAGE_PERMISSION, next_path=STAFF_PAGE)
    if isinstance(user, Response):
        return user
    check_csrf(request, csrf_token)
    service.requeue_delivery(session, user, delivery_id)
    return RedirectResponse("/staff/notify?done=requeued#problems", status_code=303)
