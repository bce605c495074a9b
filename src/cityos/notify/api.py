"""JSON API of the notify domain: notices, subscriptions (e-mail, webhook, Web Push) and the
LINE webhook. Thin: the logic is in ``service``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, BackgroundTasks, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from cityos.core.errors import (
    AuthenticationProblem,
    NotFoundProblem,
    PayloadTooLargeProblem,
    ValidationProblem,
)
from cityos.core.models import User
from cityos.core.web import (
    NOT_BLANK_PATTERN,
    SessionDep,
    api_user,
    database_of,
    problem_responses,
    require,
    settings_of,
)
from cityos.notify import filters, line, links, service
from cityos.notify.config import NotifyConfig
from cityos.notify.models import Notice, Subscription

router = APIRouter(
    prefix="/api/notify",
    tags=["Notify / 通知"],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
)
LINE_BODY_LIMIT = 1024 * 1024
MAX_FILTER_VALUES = 100


# The schema documents what the service accepts, with the service's own patterns (the
# service also takes aliases: kana, romaji, 防災 for disaster ...), and checks every field
# itself: all at once, with bilingual messages and the deployment's allowances.
def documented(pattern: str) -> dict[str, Any]:
    return {"pattern": pattern}


TOWN_NAMES = [name for town in filters.towns() for name in (town.name, *town.chome)]

TownList = Annotated[
    list[Annotated[str, Field(max_length=50, json_schema_extra={"enum": TOWN_NAMES})]],
    Field(
        default_factory=list,
        max_length=MAX_FILTER_VALUES,
        description="Mitaka 町名 (下連雀) or 町丁目 (下連雀三丁目); empty: the whole city",
    ),
]
TopicList = Annotated[
    list[Annotated[str, Field(max_length=50, json_schema_extra={"enum": list(filters.TOPICS)})]],
    Field(
        max_length=10,
        json_schema_extra={"minItems": 1},
        description="Topic ids or names: disaster/防災, crime/防犯, environment/環境, city",
    ),
]
# The API takes the language codes only (pages and LINE also take 日本語, English ...).
Language = Annotated[Literal["ja", "en", "easy"], Field(default="ja", description="ja, en or easy")]


def _config(request: Request) -> NotifyConfig:
    return service.notify_config(settings_of(request))


# --- reference lists -------------------------------------------------------------------------


class TopicOut(BaseModel):
    id: str
    ja: str
    en: str
    easy: str


class TownOut(BaseModel):
    name: str
    kana: str
    en: str
    chome: list[str]


@router.get("/topics", response_model=list[TopicOut], summary="Topics / 分野")
def topics() -> list[TopicOut]:
    return [TopicOut(id=t.id, ja=t.ja, en=t.en, easy=t.easy) for t in filters.TOPICS.values()]


@router.get("/towns", response_model=list[TownOut], summary="Mitaka's towns / 三鷹市の町名")
def towns() -> list[TownOut]:
    return [
        TownOut(name=t.name, kana=t.kana, en=t.en, chome=list(t.chome)) for t in filters.towns()
    ]


# --- notices ---------------------------------------------------------------------------------


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str = Field(
        max_length=50,
        description="disaster (防災), crime (防犯), environment (環境), city",
        json_schema_extra={"enum": list(filters.TOPICS)},
    )
    towns: TownList
    title_ja: str = Field(
        max_length=service.TITLE_LIMIT, json_schema_extra=documented(NOT_BLANK_PATTERN)
    )
    body_ja: str = Field(
        max_length=service.BODY_LIMIT, json_schema_extra=documented(NOT_BLANK_PATTERN)
    )
    title_en: str = Field(default="", max_length=service.TITLE_LIMIT)
    body_en: str = Field(default="", max_length=service.BODY_LIMIT)
    title_easy: str = Field(
        default="", max_length=service.TITLE_LIMIT, description="やさしい日本語"
    )
    body_easy: str = Field(default="", max_length=service.BODY_LIMIT)
    url: str = Field(
        default="",
        max_length=service.URL_LIMIT,
        json_schema_extra=documented(service.OPTIONAL_HTTP_URL_PATTERN),
    )
    source: str = Field(default="", max_length=200)
    dedup_key: str | None = Field(
        default=None, max_length=200, description="Sending twice with one key sends once"
    )


class NoticeOut(BaseModel):
    id: str
    topic: str
    towns: list[str]
    title: dict[str, str]
    body: dict[str, str]
    url: str
    page: str
    source: str
    created_at: datetime


class NoticeWithCounts(NoticeOut):
    deliveries: dict[str, dict[str, int]] = Field(
        description="channel → status (queued, sending, sent, failed, unknown, cancelled) → count"
    )


def _notice_out(notice: Notice, base_url: str) -> dict[str, Any]:
    langs = ("ja", "en", "easy")
    return {
        "id": notice.id,
        "topic": notice.topic,
        "towns": list(notice.towns or []),
        "title": {
            lang: getattr(notice, f"title_{lang}")
            for lang in langs
            if getattr(notice, f"title_{lang}")
        },
        "body": {
            lang: getattr(notice, f"body_{lang}")
            for lang in langs
            if getattr(notice, f"body_{lang}")
        },
        "url": notice.url,
        "page": links.notice_url(base_url, notice.id),
        "source": notice.source,
        "created_at": notice.created_at,
    }


@router.get("/notices", response_model=list[NoticeOut], summary="Recent notices / 最近のお知らせ")
def list_notices(
    request: Request, session: SessionDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[dict[str, Any]]:
    base = _config(request).base_url
    return [_notice_out(n, base) for n in service.recent_notices(session, limit)]


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="One notice / お知らせ")
def show_notice(request: Request, notice_id: str, session: SessionDep) -> dict[str, Any]:
    return _notice_out(service.get_notice(session, notice_id), _config(request).base_url)


@router.post(
    "/notices",
    response_model=NoticeWithCounts,
    status_code=201,
    summary="Send a notice (staff) / お知らせを送る",
)
def create_notice(request: Request, body: NoticeIn, session: SessionDep) -> dict[str, Any]:
    user = require(api_user(request, session), service.MANAGE_PERMISSION)
    notice = service.send_staff_notice(
        session, user, service.NoticeInput(**body.model_dump(), created_by=user.name)
    )
    session.flush()
    counts = service.delivery_counts(session, [notice.id])[notice.id]
    return {
        **_notice_out(notice, _config(request).base_url),
        "deliveries": {channel: dict(by_status) for channel, by_status in counts.items()},
    }


# --- e-mail ----------------------------------------------------------------------------------


class EmailSubscriptionIn(BaseModel):
    email: str = Field(
        max_length=service.EMAIL_LIMIT, json_schema_extra=documented(service.EMAIL_PATTERN)
    )
    towns: TownList
    topics: TopicList = Field(default_factory=lambda: ["disaster"])
    language: Language


class Accepted(BaseModel):
    status: str
    message: str


@router.post(
    "/email/subscriptions",
    response_model=Accepted,
    status_code=202,
    summary="Subscribe by e-mail (sends a confirmation) / メールで受け取る",
)
def subscribe_email(
    request: Request, body: EmailSubscriptionIn, session: SessionDep, background: BackgroundTasks
) -> Accepted:
    signup = service.subscribe_email(
        session, body.email, towns=body.towns, topics=body.topics, language=body.language
    )
    session.commit()
    if signup.delivery is not None:
        background.add_task(
            service.deliver_now, database_of(request), _config(request), [signup.delivery.id]
        )
    return Accepted(
        status="confirmation_sent",
        message="確認メールを送りました。メールのリンクを開くと登録が完了します / "
        "we sent a confirmation e-mail: open its link to finish",
    )


# --- webhooks --------------------------------------------------------------------------------


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=service.URL_LIMIT,
        json_schema_extra=documented(service.HTTP_URL_PATTERN),
        description="http(s) URL that receives POSTs",
    )
    secret: str = Field(
        default="",
        max_length=service.SECRET_MAX,
        json_schema_extra=documented(service.SECRET_PATTERN),
        description="HMAC-SHA256 key for X-CityOS-Signature (16+ characters); generated if empty",
    )
    towns: TownList
    topics: TopicList = Field(default_factory=lambda: list(filters.TOPICS))
    language: Language
    label: str = Field(default="", max_length=200)


class WebhookOut(BaseModel):
    id: str
    url: str
    label: str
    towns: list[str]
    topics: list[str]
    language: str
    created_at: datetime
    secret: str | None = Field(default=None, description="Shown once, when the webhook is made")


def _webhook_out(subscription: Subscription, secret: str | None = None) -> WebhookOut:
    return WebhookOut(
        id=subscription.id,
        url=subscription.address,
        label=subscription.label,
        towns=list(subscription.towns),
        topics=list(subscription.topics),
        language=subscription.language,
        created_at=subscription.created_at,
        secret=secret,
    )


def _caller(request: Request, session: Session) -> User:
    user = api_user(request, session)
    if user is None:
        raise AuthenticationProblem(
            "APIトークンが必要です（Authorization ヘッダー） / an API token is required"
        )
    return user


@router.post(
    "/webhooks",
    response_model=WebhookOut,
    status_code=201,
    summary="Add a webhook / Webhook を登録",
)
def create_webhook(request: Request, body: WebhookIn, session: SessionDep) -> WebhookOut:
    user = _caller(request, session)
    subscription, secret = service.create_webhook(
        session,
        user,
        service.WebhookInput(**body.model_dump()),
        allow_private=_config(request).notify_allow_private_targets,
    )
    return _webhook_out(subscription, secret)


@router.get("/webhooks", response_model=list[WebhookOut], summary="Your webhooks / Webhook 一覧")
def list_webhooks(request: Request, session: SessionDep) -> list[WebhookOut]:
    user = _caller(request, session)
    return [_webhook_out(s) for s in service.list_webhooks(session, user)]


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut, summary="One webhook")
def show_webhook(request: Request, webhook_id: str, session: SessionDep) -> WebhookOut:
    user = _caller(request, session)
    return _webhook_out(service.get_webhook(session, user, webhook_id))


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Remove a webhook / 削除")
def delete_webhook(request: Request, webhook_id: str, session: SessionDep) -> Response:
    user = _caller(request, session)
    service.delete_webhook(session, user, webhook_id)
    return Response(status_code=204)


# --- Web Push --------------------------------------------------------------------------------


class PushKeys(BaseModel):
    p256dh: str = Field(max_length=200, json_schema_extra=documented(service.P256DH_PATTERN))
    auth: str = Field(max_length=100, json_schema_extra=documented(service.AUTH_PATTERN))


class PushSubscriptionJSON(BaseModel):
    """What the browser's PushSubscription.toJSON() gives."""

    endpoint: str = Field(
        max_length=service.URL_LIMIT, json_schema_extra=documented(service.HTTPS_URL_PATTERN)
    )
    keys: PushKeys
    expirationTime: Annotated[float, Field(strict=True)] | None = None  # noqa: N815 (the browser's name)


class WebPushIn(BaseModel):
    subscription: PushSubscriptionJSON
    towns: TownList
    topics: TopicList = Field(default_factory=lambda: ["disaster"])
    language: Language


class PushAuthKey(BaseModel):
    auth: str = Field(max_length=100, json_schema_extra=documented(service.AUTH_PATTERN))


class WebPushLookup(BaseModel):
    endpoint: str = Field(max_length=service.URL_LIMIT)
    keys: PushAuthKey


class FiltersOut(BaseModel):
    towns: list[str]
    topics: list[str]
    language: str


class VapidKeyOut(BaseModel):
    public_key: str = Field(description="applicationServerKey for PushManager.subscribe()")


@router.get("/webpush/key", response_model=VapidKeyOut, summary="VAPID public key / 公開鍵")
def vapid_key(request: Request) -> VapidKeyOut:
    return VapidKeyOut(public_key=_config(request).vapid_public_key)


@router.post(
    "/webpush/subscriptions",
    response_model=FiltersOut,
    summary="Subscribe this browser to push notices / ブラウザ通知を受け取る",
)
def subscribe_webpush(request: Request, body: WebPushIn, session: SessionDep) -> FiltersOut:
    subscription = service.subscribe_webpush(
        session,
        endpoint=body.subscription.endpoint,
        p256dh=body.subscription.keys.p256dh,
        auth_secret=body.subscription.keys.auth,
        towns=body.towns,
        topics=body.topics,
        language=body.language,
        allow_private=_config(request).notify_allow_private_targets,
    )
    return FiltersOut(
        towns=subscription.towns, topics=subscription.topics, language=subscription.language
    )


@router.post(
    "/webpush/status", response_model=FiltersOut, summary="This browser's filters / 今の設定"
)
def webpush_status(body: WebPushLookup, session: SessionDep) -> FiltersOut:
    found = service.find_webpush(session, body.endpoint, body.keys.auth)
    return FiltersOut(towns=found.towns, topics=found.topics, language=found.language)


@router.post(
    "/webpush/unsubscribe", status_code=204, summary="Stop push notices / ブラウザ通知をやめる"
)
def unsubscribe_webpush(body: WebPushLookup, session: SessionDep) -> Response:
    service.unsubscribe(session, service.find_webpush(session, body.endpoint, body.keys.auth))
    return Response(status_code=204)


# --- LINE ------------------------------------------------------------------------------------


class LineAnswer(BaseModel):
    status: str


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    too_large = PayloadTooLargeProblem(
        f"本文は {limit // 1024} KB までです / the body is limited to {limit // 1024} KB"
    )
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def _handle_line(request: Request, payload: Any) -> list[str]:
    with database_of(request).session() as session:
        return service.handle_line_events(session, payload)


@router.post(
    "/line/webhook",
    response_model=LineAnswer,
    summary="LINE Messaging API webhook / LINE の Webhook",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def line_webhook(
    request: Request,
    background: BackgroundTasks,
    x_line_signature: Annotated[str | None, Header(max_length=200)] = None,
) -> LineAnswer:
    """Follow and unfollow subscribe and unsubscribe; text messages set the filters.

    Every request must carry X-Line-Signature = base64(HMAC-SHA256(channel secret, body)).
    """
    config = _config(request)
    if not config.line_configured:
        # Not an outage: this deployment has no LINE channel, so the endpoint is not there.
        raise NotFoundProblem(
            "LINE 連携は設定されていません / LINE is not configured (CITYOS_LINE_CHANNEL_SECRET)"
        )
    body = await _read_limited(request, LINE_BODY_LIMIT)
    if not line.signature_valid(config.line_channel_secret, body, x_line_signature):
        raise AuthenticationProblem(
            "X-Line-Signature が正しくありません / the X-Line-Signature is missing or wrong"
        )
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValidationProblem(
            "本文が JSON ではありません / the body is not JSON", status=400
        ) from None
    replies = await run_in_threadpool(_handle_line, request, payload)
    if replies:
        background.add_task(service.deliver_now, database_of(request), config, replies)
    return LineAnswer(status="ok")
