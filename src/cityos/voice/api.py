"""JSON API of the citizens' voice (thin: the logic is in ``service``).

* ``GET /api/voice/summary`` — sentiment overall and per topic, each topic's key words, size,
  trend and representative quotes; ``GET /api/voice/texts`` — the analysed texts;
  ``GET /api/voice/export.csv`` — the same as a spreadsheet. Filters: source, town, period.
* ``POST /api/voice/import`` — inquiries or SNS posts as JSON lines or CSV, analysed and kept.

Every route needs a staff member's API token (or a logged-in session): the texts are people's
words (opinions only once published and masked, but inquiries as they came).
"""

from __future__ import annotations

import re
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, BeforeValidator, Field

from cityos.core import text
from cityos.core.errors import PayloadTooLargeProblem, ValidationProblem
from cityos.core.web import (
    SessionDep,
    api_user,
    database_of,
    problem_responses,
    require,
    settings_of,
)
from cityos.voice import service

MAX_IMPORT_BYTES = 16 * 1024 * 1024
TOKEN: dict[str, Any] = {"security": [{"ApiToken": []}]}

router = APIRouter(
    prefix="/api/voice",
    tags=["Citizens' voice / 市民の声"],
    responses=problem_responses(400, 401, 403, 413, 415, 422),
)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_day(value: Any) -> Any:
    # A query value is text: "0" would otherwise be read as a Unix time (1970-01-01).
    if value is None or (isinstance(value, str) and _DAY.match(value)):
        return value
    raise ValueError("日付は YYYY-MM-DD で指定してください / a date must be YYYY-MM-DD")


DayQuery = Annotated[date | None, BeforeValidator(_iso_day)]


def voice_filter(
    source: Annotated[
        Literal["opinion", "inquiry", "sns", "survey"] | None,
        Query(description="opinion (published opinions), inquiry, sns or survey; all when absent"),
    ] = None,
    town: Annotated[str | None, Query(max_length=60, description="町名 (e.g. 下連雀)")] = None,
    since: Annotated[DayQuery, Query(description="first day (Japan time), YYYY-MM-DD")] = None,
    until: Annotated[DayQuery, Query(description="last day (Japan time), YYYY-MM-DD")] = None,
    topic: Annotated[str | None, Query(max_length=200, description="a topic label")] = None,
) -> service.VoiceFilter:
    """The filters the summary, the texts and the export all take."""
    return service.VoiceFilter(
        source=source or "",
        town=(town or "").strip(),
        since=since,
        until=until,
        topic=(topic or "").strip(),
    ).check()


FilterDep = Annotated[service.VoiceFilter, Depends(voice_filter)]


class TrendPoint(BaseModel):
    period: str
    texts: int


class TextOut(BaseModel):
    id: int
    source: Literal["opinion", "inquiry", "sns", "survey"]
    ref: str
    text: str
    town: str | None
    created_at: datetime
    sentiment: Literal["positive", "negative", "neutral"]
    sentiment_score: float = Field(ge=-1, le=1)
    topic: str
    sample: bool = Field(description="demo data, not real people's words")


class Sentiments(BaseModel):
    positive: int
    negative: int
    neutral: int


class TopicOut(BaseModel):
    label: str = Field(description="key words joined with ・")
    words: list[str]
    size: int
    sentiments: Sentiments
    positive_share: float
    negative_share: float
    trend: list[TrendPoint]
    quotes: list[TextOut]


class SummaryOut(BaseModel):
    total: int
    sentiments: Sentiments
    sources: dict[str, int]
    periods: list[str]
    topics: list[TopicOut]


class TextsOut(BaseModel):
    items: list[TextOut]


class ProblemLine(BaseModel):
    line: int
    reason: str


class ImportOut(BaseModel):
    source: Literal["inquiry", "sns"]
    stored: int = Field(description="new texts analysed and kept")
    updated: int = Field(description="texts with an id sent before, analysed again")
    problems: list[ProblemLine]


@router.get(
    "/summary",
    summary="Topics and sentiment / 話題と感情の集計",
    response_model=SummaryOut,
    openapi_extra=TOKEN,
)
def summary(request: Request, session: SessionDep, where: FilterDep) -> Response:
    require(api_user(request, session), service.READ_PERMISSION)
    rows = service.texts(session, where)
    return _json(service.summary_dict(service.summarize(rows)))


@router.get(
    "/texts",
    summary="The analysed texts, newest first / 分析済みの文章",
    response_model=TextsOut,
    openapi_extra=TOKEN,
)
def texts(
    request: Request,
    session: SessionDep,
    where: FilterDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
) -> Response:
    require(api_user(request, session), service.READ_PERMISSION)
    rows = service.texts(session, where, limit)
    return _json({"items": [service.text_dict(row) for row in rows]})


@router.get(
    "/export.csv",
    summary="The analysed texts as CSV (Excel) / CSVで書き出す",
    responses={200: {"content": {"text/csv": {}}}},
    openapi_extra=TOKEN,
)
def export(request: Request, session: SessionDep, where: FilterDep) -> Response:
    require(api_user(request, session), service.READ_PERMISSION)
    rows = service.texts(session, where)
    stamp = datetime.now(text.TOKYO).strftime("%Y%m%d-%H%M")
    return Response(
        service.export_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="voice-{stamp}.csv"'},
    )


@router.post(
    "/import",
    summary="Import inquiries or SNS posts / 問い合わせ・SNS投稿を取り込む",
    response_model=ImportOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "JSON lines (each with `id` and `text`, optionally `town` and "
            "`created_at`) or a CSV whose header names the columns (本文/text, 番号/id, "
            "町名/town, 日時/created_at; UTF-8 or Shift_JIS). Bad lines are reported by "
            "number; the good ones are analysed and kept; an id sent again is replaced.",
            # Any bytes: what cannot be read is answered line by line (or 422 when no line
            # can be read), so the schema promises no more than that.
            "content": {"application/x-ndjson": {"schema": {}}, "text/csv": {"schema": {}}},
        },
        **TOKEN,
    },
)
async def import_texts(
    request: Request,
    source: Annotated[Literal["inquiry", "sns"], Query(description="what the texts are")],
) -> Response:
    with database_of(request).session() as session:
        require(api_user(request, session), service.MANAGE_PERMISSION)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_IMPORT_BYTES:
            raise PayloadTooLargeProblem(
                f"一度に送れるのは {MAX_IMPORT_BYTES // 1024 // 1024} MB までです / "
                f"at most {MAX_IMPORT_BYTES // 1024 // 1024} MB a request"
            )
    if not body.strip():
        raise ValidationProblem("本文が空です / the body is empty", errors={"body": ["empty"]})
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    suffix = ".csv" if media == "text/csv" else ".jsonl"
    return await run_in_threadpool(_import_sync, request, source, bytes(body), suffix)


def _import_sync(request: Request, source: str, body: bytes, suffix: str) -> Response:
    settings = settings_of(request)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"import{suffix}"
        path.write_bytes(body)
        with database_of(request).session() as session:
            user = require(api_user(request, session), service.MANAGE_PERMISSION)
            towns = service.city_towns(settings.city_name_ja)
            report = service.import_file(session, user, source, path, towns, via="api")
            if report.stored + report.updated == 0:
                session.rollback()
                problems = [str(p) for p in report.problems[:50]] or ["空です / empty"]
                raise ValidationProblem(
                    "読める行がありませんでした / no line could be read",
                    errors={"body": problems},
                )
            return _json(report.as_dict())
