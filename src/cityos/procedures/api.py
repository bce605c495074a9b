"""Public JSON API of the procedure catalog (``/api/procedures``). Thin: logic in ``service``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from cityos.core.web import SessionDep, problem_responses
from cityos.procedures import catalog, service

router = APIRouter(
    prefix="/api/procedures",
    tags=["Procedures / 手続き"],
    responses=problem_responses(404, 422),
)

LifeEvent = Literal[
    "move_in",
    "move_out",
    "move_within",
    "birth",
    "marriage",
    "divorce",
    "death",
    "care",
    "school",
    "pregnancy",
    "retirement",
    "daily",
]  # fmt: skip  (the keys of models.LIFE_EVENTS; a test keeps them equal)


class Texts(BaseModel):
    ja: str
    en: str


class EasyTexts(Texts):
    easy: str


class Deadline(EasyTexts):
    days: int | None


class ProcedureOut(BaseModel):
    """One procedure: who may apply, what to bring, fees, deadline, online or counter."""

    id: str
    name: EasyTexts
    summary: EasyTexts
    department: Texts
    who: Texts
    bring: list[Texts]
    fee: Texts
    deadline: Deadline
    online: bool
    online_how: Texts
    where: Texts
    forms: list[str]
    related: list[str]
    events: list[str]
    keywords: list[str]
    updated_at: str


class CatalogOut(BaseModel):
    count: int
    attribution: Texts
    procedures: list[ProcedureOut]


@router.get(
    "",
    response_model=CatalogOut,
    summary="The procedure catalog, filtered / 手続きの一覧（絞り込み）",
    description=(
        "市の手続きの一覧。公開情報をもとに書いたもので、公式情報ではありません。\n\n"
        "The city's procedures (written from public knowledge, not official). `q` matches "
        "names, keywords and form names (kana, width and case do not matter); `event` is a "
        "life event; `department` matches part of the department's name; `online` keeps the "
        "procedures that can (true) or cannot (false) be done online."
    ),
)
def list_procedures(
    session: SessionDep,
    q: Annotated[str, Query(max_length=200, description="Words to find / 検索語")] = "",
    event: Annotated[LifeEvent | None, Query(description="Life event / ライフイベント")] = None,
    department: Annotated[str, Query(max_length=100, description="Department / 担当課")] = "",
    online: Annotated[bool | None, Query(description="Online now / オンライン可")] = None,
) -> CatalogOut:
    found = service.search(session, q=q, event=event or "", department=department, online=online)
    return CatalogOut(
        count=len(found),
        attribution=Texts(**catalog.attribution()),
        procedures=[ProcedureOut.model_validate(service.as_dict(p)) for p in found],
    )


@router.get(
    "/{procedure_id}",
    response_model=ProcedureOut,
    summary="One procedure / 手続き",
)
def show_procedure(session: SessionDep, procedure_id: str) -> ProcedureOut:
    return ProcedureOut.model_validate(service.as_dict(service.get(session, procedure_id)))
