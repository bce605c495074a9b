"""Public JSON API of the online forms (``/api/forms``). Thin: logic in ``service``.

Definitions are public (they are blank forms); submissions are never served here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel

from cityos.core.errors import NotFoundProblem
from cityos.core.web import SessionDep, problem_responses
from cityos.forms import service

router = APIRouter(
    prefix="/api/forms", tags=["Forms / 電子申請"], responses=problem_responses(404, 422)
)


class FormOut(BaseModel):
    """A blank online form: its fields with Japanese and English labels and help."""

    id: str
    procedure_id: str
    title_ja: str
    title_en: str
    department_ja: str
    department_en: str
    fields: list[dict[str, Any]]


class PostcodeOut(BaseModel):
    """Where a postcode is (Japan Post data shipped with the address index)."""

    postcode: str
    pref: str
    city: str
    town: str


def _out(found: Any) -> FormOut:
    return FormOut(
        id=found.id, procedure_id=found.procedure_id, title_ja=found.title_ja,
        title_en=found.title_en, department_ja=found.department_ja,
        department_en=found.department_en, fields=found.fields,
    )  # fmt: skip


@router.get("", response_model=list[FormOut], summary="Online forms / 電子申請の様式")
def list_forms(session: SessionDep) -> list[FormOut]:
    return [_out(f) for f in service.forms(session)]


@router.get(
    "/postcode/{code}", response_model=PostcodeOut, summary="Address of a postcode / 郵便番号検索"
)
def postcode(code: Annotated[str, Path(max_length=20)]) -> PostcodeOut:
    found = service.postcode_lookup(code)
    if found is None:
        raise NotFoundProblem("郵便番号が見つかりません / no such postcode")
    return PostcodeOut(**found)


@router.get("/{form_id}", response_model=FormOut, summary="One online form / 様式")
def get_form(session: SessionDep, form_id: Annotated[str, Path(max_length=40)]) -> FormOut:
    return _out(service.form(session, form_id))
