"""JSON API of the FAQ chatbot (thin: the logic is in ``service``).

* ``POST /api/chatbot/ask`` — a question in Japanese, English, Chinese or Korean -> the best
  entry's own text with its source and a confidence, or a hand-off with three close questions.
* ``POST /api/chatbot/feedback`` — thumbs up/down on an answer, or "send my question to staff".
* ``GET /api/chatbot/faq`` — every FAQ entry (public).
* ``GET /api/chatbot/index`` — whether the answer index is being rebuilt after an edit, and the
  entries and build time of the index that answers now.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from cityos.chatbot import service
from cityos.core.ratelimit import rate_limited
from cityos.core.web import (
    JSON_INT,
    NOT_BLANK_PATTERN,
    JsonBool,
    SessionDep,
    database_of,
    explained,
    problem_responses,
    settings_of,
)

QUESTION_MAX = 1000
ASK_LIMIT = Depends(rate_limited("chatbot", lambda r: settings_of(r).chatbot_questions_per_minute))

router = APIRouter(
    prefix="/api/chatbot",
    tags=["FAQ chatbot / FAQ チャットボット"],
    responses=problem_responses(400, 404, 422, 429),
)

_QUESTION_PATTERN = explained(
    NOT_BLANK_PATTERN, "質問を入力してください / please type a question (it is empty)"
)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Annotated[
        str, Field(min_length=1, max_length=QUESTION_MAX, pattern=_QUESTION_PATTERN)
    ] = Field(description="質問（日本語・English・中文・한국어） / the question, up to 1000 chars")
    lang: Literal["ja", "en"] = Field(default="ja", description="the page's language")
    channel: Literal["web", "api"] = Field(default="api", description="where it was asked")


class SuggestionOut(BaseModel):
    faq_id: str
    question: str


class SourceOut(BaseModel):
    kind: Literal["faq", "procedures", "live", "greeting"] = Field(
        description="faq: an FAQ entry; procedures: the procedure catalog; live: live city data;"
        " greeting: the reply to a greeting or thanks (the suggestions are example questions)"
    )
    category: str
    department: str
    url: str
    updated: str
    lang: str = Field(description="the language of the text: ja, or a greeting's (en, zh, ko)")


class AnswerOut(BaseModel):
    answered: bool = Field(
        description="answered from the city's text (false for a hand-off and for the reply to"
        " a greeting)"
    )
    faq_id: str | None
    question: str | None = Field(description="the matched entry's question")
    answer: str | None = Field(
        description="the matched entry's answer, exactly as written; or the reply to a greeting"
    )
    confidence: float
    suggestions: list[SuggestionOut]
    message: str
    speech: str = Field(description="a short plain answer for speech (no URLs, no markup)")
    source: SourceOut | None
    log_id: int | None = Field(description="for /api/chatbot/feedback")
    can_send_to_staff: bool


def _ask(request: Request, body: AskIn) -> dict[str, Any]:
    settings = settings_of(request)
    with database_of(request).session() as session:
        asked = service.ask(
            session,
            body.question,
            channel=body.channel,
            threshold=settings.chatbot_threshold,
            site_url=settings.site_url,
        )
        return service.answer_json(asked, body.lang)


@router.post(
    "/ask",
    response_model=AnswerOut,
    summary="Ask the FAQ chatbot / FAQ チャットボットに質問する",
    dependencies=[ASK_LIMIT],
)
async def ask(request: Request, body: AskIn) -> Response:
    """Answers only with an FAQ entry's own text; below the confidence threshold it declines
    and offers the three closest questions and a hand-off to staff."""
    return _json(await run_in_threadpool(_ask, request, body))


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    log_id: Annotated[int, Field(ge=1, le=2_000_000_000), JSON_INT]
    rating: Annotated[int, Field(ge=-1, le=1), JSON_INT] = Field(
        default=0, description="1 helpful, -1 not helpful"
    )
    to_staff: JsonBool = Field(default=False, description="send the question to staff")


class FeedbackOut(BaseModel):
    log_id: int
    rating: int
    to_staff: bool
    message: str


@router.post(
    "/feedback",
    response_model=FeedbackOut,
    summary="Rate an answer or send the question to staff / 評価・職員に送る",
    dependencies=[ASK_LIMIT],
)
def feedback(body: FeedbackIn, session: SessionDep) -> FeedbackOut:
    row = service.feedback(session, body.log_id, rating=body.rating, to_staff=body.to_staff)
    if body.to_staff:
        message = "職員に質問を送りました。FAQ に答えを加えます / Sent to staff: they will add an answer to the FAQ."
    else:
        message = "ご評価ありがとうございます / Thank you for your feedback."
    return FeedbackOut(log_id=row.id, rating=row.rating, to_staff=row.to_staff, message=message)


class EntryOut(BaseModel):
    faq_id: str
    question: str
    answer: str
    category: str
    department: str
    url: str
    updated: str | None


@router.get("/faq", response_model=list[EntryOut], summary="All FAQ entries / FAQ の一覧")
def faq(session: SessionDep) -> Response:
    return _json(
        [
            {
                "faq_id": r.faq_id,
                "question": r.question,
                "answer": r.answer,
                "category": r.category,
                "department": r.department,
                "url": r.url,
                "updated": r.updated.isoformat() if r.updated else None,
            }
            for r in service.list_entries(session)
        ]
    )


class IndexOut(BaseModel):
    building: bool = Field(description="a new index is being built after an edit")
    entries: int = Field(description="entries in the index that answers now")
    built_at: str | None = Field(description="when the index that answers now was built (UTC)")
    current: bool = Field(description="the index that answers now has the latest entries")
    failed: bool = Field(description="the last rebuild failed; the previous index answers")


@router.get(
    "/index",
    response_model=IndexOut,
    summary="State of the answer index / 回答の索引の状態",
)
def index_state(session: SessionDep) -> Response:
    """After staff change entries or synonyms the index is rebuilt in the background while the
    previous one keeps answering; poll this until ``current`` is true."""
    return _json(service.index_status(session).as_json())
