"""JSON API of the address normalizer: one address, a batch, and a point back to its 町字."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from cityos.address import service
from cityos.core.errors import NotFoundProblem
from cityos.core.web import problem_responses

router = APIRouter(
    prefix="/api/address", tags=["Address / 住所"], responses=problem_responses(400, 404, 413, 422)
)
MAX_BATCH = 10_000


class AddressOut(BaseModel):
    input: str
    pref: str | None
    city: str | None
    town: str | None
    addr: str | None
    other: str | None
    level: int = Field(description="0 none, 1 prefecture, 2 city, 3 town (町字), 8 番地/号")
    lat: float | None
    lon: float | None
    ambiguous: bool
    candidates: list[str]


class BatchIn(BaseModel):
    addresses: list[str] = Field(max_length=MAX_BATCH, description="At most 10,000 lines")
    prefer_city: str | None = Field(default=None, max_length=50)


class BatchOut(BaseModel):
    results: list[AddressOut]


class PlaceOut(BaseModel):
    pref: str
    city: str
    town: str
    lat: float | None
    lon: float | None
    distance_m: float = Field(description="From the point to the town's representative point")


@router.get("/normalize", response_model=AddressOut, summary="Normalize one address / 住所を正規化")
async def normalize_one(
    q: Annotated[str, Query(max_length=10_000, description="The address as written")],
    prefer_city: Annotated[str | None, Query(max_length=50)] = None,
) -> AddressOut:
    result = await run_in_threadpool(service.normalize, q, prefer_city=prefer_city)
    return AddressOut(**result.as_dict())


@router.post("/normalize", response_model=BatchOut, summary="Normalize many addresses / 一括")
async def normalize_batch(body: BatchIn) -> BatchOut:
    results = await run_in_threadpool(
        service.normalize_many, body.addresses, prefer_city=body.prefer_city
    )
    return BatchOut(results=[AddressOut(**r.as_dict()) for r in results])


@router.get("/reverse", response_model=PlaceOut, summary="The 町字 at a point / 逆ジオコーディング")
async def reverse(
    lat: Annotated[float, Query(ge=20.0, le=46.0, description="Latitude inside Japan")],
    lon: Annotated[float, Query(ge=122.0, le=154.0, description="Longitude inside Japan")],
) -> PlaceOut:
    found = await run_in_threadpool(service.reverse, lat, lon)
    if found is None:
        raise NotFoundProblem("近くに町字がありません / no town near this point")
    return PlaceOut(**found)
