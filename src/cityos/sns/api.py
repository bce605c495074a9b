"""JSON API of the SNS domain (thin: the logic is in ``service``).

* ``POST /api/sns/posts`` — a batch of posts as JSON lines (or a JSON array), for the
  integration that collects them; answered with what was stored and each bad line's reason.
* ``GET /api/sns/queue``, ``/posts/{id}``, ``POST /posts/{id}/mark``, ``/export.csv`` — the
  staff queue.
* ``GET /api/sns/summaries`` and ``/ask`` — area summaries and answers to questions.

Everything needs a staff member's API token (or a logged-in session): posts are people's
words about their homes and families, not open data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from cityos.core import text
from cityos.core.errors import PayloadTooLargeProblem, UnsupportedMediaProblem, ValidationProblem
from cityos.core.web import (
    ISO_DATETIME,
    NOT_BLANK_PATTERN,
    SessionDep,
    XmlText,
    api_user,
    database_of,
    problem_responses,
    require,
    settings_of,
)
from cityos.db import utcnow
from cityos.sns import gazetteer, posts, service
from cityos.sns.models import MARKS
from cityos.sns.triage import CATEGORIES, HAZARDS

MAX_BATCH_BYTES = 16 * 1024 * 1024
LINES_TYPES = ("application/x-ndjson", "application/jsonl", "application/jsonlines", "text/plain")

_ID = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NOT_BLANK_PATTERN}
POSTS_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "maxItems": 50_000,
    "items": {
        "type": "object",
        "required": ["id", "text"],
        "properties": {
            "id": {"anyOf": [_ID, {"type": "integer"}]},
            "text": {
                "type": "string",
                "minLength": 1,
                "maxLength": posts.MAX_TEXT_CHARS,
                "pattern": NOT_BLANK_PATTERN,
            },
            "created_at": {"type": "string", "format": "date-time"},
            "user": {"type": "string", "maxLength": 200},
            "lang": {"type": "string", "maxLength": 20},
            "retweet_of": {"anyOf": [_ID, {"type": "integer"}]},
            "quote_of": {"anyOf": [_ID, {"type": "integer"}]},
        },
    },
}

# Every route needs a staff member's token (or a logged-in session): posts are people's words.
TOKEN: dict[str, Any] = {"security": [{"ApiToken": []}]}

router = APIRouter(
    prefix="/api/sns",
    tags=["SNS triage / SNS投稿の分類"],
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422),
)

Category = Literal[CATEGORIES]  # type: ignore[valid-type]
Hazard = Literal[HAZARDS]  # type: ignore[valid-type]
Mark = Literal[MARKS]  # type: ignore[valid-type]


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class ProblemLine(BaseModel):
    line: int
    reason: str
    kept: bool


class IngestOut(BaseModel):
    received: int = Field(description="good lines read")
    stored: int = Field(description="new posts stored, copies included")
    copies: int = Field(description="of those, retweets and near-copies of an earlier post")
    already_received: int = Field(description="posts with an id sent before: left as they were")
    problems: list[ProblemLine]


@router.post(
    "/posts",
    summary="Send posts to triage / 投稿を送って分類・保存する",
    response_model=IngestOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A JSON array of posts, or the same objects as JSON lines (one a line, "
            "`Content-Type: application/x-ndjson`). Each has `id` and `text`, and may have "
            "`created_at`, `user`, `lang`, `geo`, `retweet_of` and `quote_of`. The user is "
            "stored only as a salted hash. Bad lines are reported by number; the good ones are "
            "stored; a post sent again (same id) is left as it was.",
            "content": {"application/json": {"schema": POSTS_SCHEMA}},
        },
        "security": [{"ApiToken": []}],
    },
)
async def send_posts(request: Request) -> Response:
    with database_of(request).session() as session:
        require(api_user(request, session), service.WRITE_PERMISSION)
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in (*LINES_TYPES, "application/json"):
        raise UnsupportedMediaProblem(
            "JSON Lines（application/x-ndjson）か JSON の配列を送ってください / send JSON lines "
            f"(application/x-ndjson) or a JSON array, not {media or 'nothing'}"
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BATCH_BYTES:
        raise PayloadTooLargeProblem(_too_large())
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BATCH_BYTES:
            raise PayloadTooLargeProblem(_too_large())
    lines = _lines(bytes(body), media)
    return await run_in_threadpool(_ingest_sync, request, lines)


def _too_large() -> str:
    return (
        f"一度に送れるのは {MAX_BATCH_BYTES // 1024 // 1024} MB までです。分けて送ってください / "
        f"at most {MAX_BATCH_BYTES // 1024 // 1024} MB a request: send it in parts"
    )


def _lines(body: bytes, media: str) -> list[bytes]:
    if media != "application/json":
        return body.splitlines()
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationProblem(
            f"JSON として読めません / the body is not JSON: {exc}"[:300],
            errors={"body": ["not JSON"]},
        ) from exc
    if isinstance(data, dict) and isinstance(data.get("posts"), list):
        data = data["posts"]
    if not isinstance(data, list):
        raise ValidationProblem(
            "投稿の配列を送ってください / send an array of posts",
            errors={"body": ["not an array"]},
        )
    return [orjson.dumps(item) for item in data]


def _ingest_sync(request: Request, lines: list[bytes]) -> Response:
    settings = settings_of(request)
    with database_of(request).session() as session:
        user = require(api_user(request, session), service.WRITE_PERMISSION)
        places = gazetteer.gazetteer_from(session)
        report = service.ingest(
            session,
            lines,
            places,
            secret=settings.resolved_secret_key,
            source="api",
            worker=f"api:{user.name}",
        )
        if report.received == 0:
            session.rollback()
            problems = [str(p) for p in report.problems[:50]] or ["空です / empty"]
            raise ValidationProblem(
                "読める投稿がありませんでした / no post could be read",
                errors={"body": problems},
            )
        return _json(report.as_dict())


def _filter(
    category: str | None, town: str | None, hazard: str | None, mark: str | None, hours: int | None
) -> service.QueueFilter:
    since = utcnow() - timedelta(hours=hours) if hours else None
    return service.QueueFilter(
        category=category or "",
        town=(town or "").strip(),
        hazard=hazard or "",
        mark="open" if mark is None else mark,
        since=since,
    ).check()


TownQuery = Annotated[str | None, Query(max_length=60, description="町名 (大沢 or 大沢四丁目)")]
HoursQuery = Annotated[int | None, Query(ge=1, le=24 * 30, description="only the last N hours")]
MarkQuery = Annotated[
    Literal["open", "handled", "fire_service", ""] | None,
    Query(description="open (default), handled, fire_service, or empty for all"),
]


def queue_filter(
    category: Category | None = None,
    town: TownQuery = None,
    hazard: Hazard | None = None,
    mark: MarkQuery = None,
    hours: HoursQuery = None,
) -> service.QueueFilter:
    """The queue's filters, as the queue and its CSV export both take them."""
    return _filter(category, town, hazard, mark, hours)


FilterDep = Annotated[service.QueueFilter, Depends(queue_filter)]


@router.get("/queue", summary="The triage queue / 対応待ちの投稿", openapi_extra=TOKEN)
def queue(
    request: Request,
    session: SessionDep,
    where: FilterDep,
    limit: Annotated[int, Query(ge=1, le=service.MAX_QUEUE)] = 100,
) -> Response:
    require(api_user(request, session), service.READ_PERMISSION)
    rows = service.queue(session, where, limit)
    counts = service.facets(session)
    return _json(
        {
            "items": [service.post_dict(row) for row in rows],
            "open": {name: dict(counter) for name, counter in counts.items()},
            "totals": service.totals(session),
        }
    )


@router.get(
    "/export.csv",
    summary="The queue as CSV for the fire service / 消防向けCSV",
    responses={200: {"content": {"text/csv": {}}}},
    openapi_extra=TOKEN,
)
def export(request: Request, session: SessionDep, where: FilterDep) -> Response:
    require(api_user(request, session), service.READ_PERMISSION)
    rows = service.queue(session, where, limit=service.MAX_QUEUE)
    stamp = datetime.now(text.TOKYO).strftime("%Y%m%d-%H%M")
    return Response(
        service.export_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="sns-triage-{stamp}.csv"'},
    )


@router.get(
    "/posts/{post_uuid}", summary="One post with its marks / 投稿と対応の記録", openapi_extra=TOKEN
)
def get_post(request: Request, post_uuid: str, session: SessionDep) -> Response:
    require(api_user(request, session), service.READ_PERMISSION)
    row = service.get_post(session, post_uuid)
    body = service.post_dict(row)
    body["marks"] = [
        {"mark": m.mark, "note": m.note, "by": m.user_name, "at": m.at.isoformat()}
        for m in service.marks_of(session, row.id)
    ]
    return _json(body)


class MarkIn(BaseModel):
    mark: Mark = Field(description="open, handled, or fire_service (passed to the fire service)")
    note: Annotated[XmlText, Field(max_length=500)] = ""


@router.post(
    "/posts/{post_uuid}/mark",
    summary="Mark a post / 対応済み・消防へ連絡済み",
    openapi_extra=TOKEN,
)
def mark_post(request: Request, post_uuid: str, body: MarkIn, session: SessionDep) -> Response:
    user = require(api_user(request, session), service.MARK_PERMISSION)
    row = service.set_mark(session, user, post_uuid, body.mark, body.note, via="api")
    return _json(service.post_dict(row))


@router.get("/summaries", summary="Area summaries / 地域ごとの要約", openapi_extra=TOKEN)
def summaries(
    request: Request,
    session: SessionDep,
    hours: Annotated[int, Query(ge=1, le=24 * 30, description="the last N hours")] = 24,
    since: Annotated[
        datetime | None, ISO_DATETIME, Query(description="window start (ISO 8601)")
    ] = None,
    until: Annotated[
        datetime | None, ISO_DATETIME, Query(description="window end (ISO 8601)")
    ] = None,
) -> Response:
    require(api_user(request, session), service.READ_PERMISSION)
    start, end = service.window(since, until, hours)
    areas = service.area_summaries(session, start, end)
    return _json(
        {
            "since": start.isoformat(),
            "until": end.isoformat(),
            "areas": [service.summary_dict(area) for area in areas],
            **(
                {"note": "期間の終わりが始まりより前です / the window ends before it starts"}
                if end <= start
                else {}
            ),
        }
    )


@router.get("/ask", summary="Ask the posts a question / 投稿に質問する", openapi_extra=TOKEN)
def ask(
    request: Request,
    session: SessionDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=service.MAX_QUESTION,
            pattern=NOT_BLANK_PATTERN,
            description="大沢で何が不足している？",
        ),
    ],
    hours: HoursQuery = None,
) -> Response:
    require(api_user(request, session), service.READ_PERMISSION)
    since = utcnow() - timedelta(hours=hours) if hours else None
    found = service.answer(session, q, gazetteer.gazetteer_from(session), since)
    return _json(service.answer_dict(found))
