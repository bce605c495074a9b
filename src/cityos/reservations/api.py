"""Public JSON API of counter reservations: waiting times and free slots. Thin: see ``service``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from cityos.core.web import SessionDep, problem_responses
from cityos.reservations import service

router = APIRouter(
    prefix="/api/reservations",
    tags=["Reservations / 窓口予約"],
    responses=problem_responses(404, 422),
)
CounterId = Annotated[str, Path(max_length=40)]


class WaitingOut(BaseModel):
    """The current wait at one counter: waiting ÷ staff (rounded up) × average service time."""

    counter: str
    name_ja: str
    name_en: str
    waiting: int
    serving: int
    staff: int
    service_minutes: float
    service_minutes_from_visits: int
    estimated_wait_minutes: int
    sample: bool


class WaitingList(BaseModel):
    explanation: str
    counters: list[WaitingOut]


EXPLANATION = (
    "待ち時間の目安 = 受付済みで待っている人数 ÷ 対応する職員数（切り上げ）× 今日の最近 "
    f"{service.RECENT_SERVICES} 件の平均対応時間（まだ無ければ予約枠の長さ） / "
    "estimated wait = people checked in and waiting ÷ staff serving (rounded up) × the "
    f"average service time of today's last {service.RECENT_SERVICES} visits (the slot length "
    "until there are any)"
)


class SlotOut(BaseModel):
    start: str
    free: int


class DayOut(BaseModel):
    date: str
    closed: str
    slots: list[SlotOut]


class CounterSlots(BaseModel):
    counter: str
    name_ja: str
    name_en: str
    slot_minutes: int
    capacity: int
    sample: bool
    days: list[DayOut]


@router.get("/waiting", response_model=WaitingList, summary="Current waiting time per counter")
def waiting(session: SessionDep) -> WaitingList:
    """窓口ごとの現在の待ち時間の目安 / the current estimated wait at each counter."""
    counters = [WaitingOut(**w.as_json()) for w in service.waiting_times(session)]
    return WaitingList(explanation=EXPLANATION, counters=counters)


@router.get("/counters/{counter_id}", response_model=CounterSlots, summary="Free slots")
def counter_slots(session: SessionDep, counter_id: CounterId) -> CounterSlots:
    """予約できる時間枠（今日から2週間） / free slots of a counter for the next two weeks."""
    counter = service.get_counter(session, counter_id)
    now = service.now_utc()
    days = service.calendar(session, counter, service.today(now), 14, now)
    return CounterSlots(
        counter=counter.id,
        name_ja=counter.name_ja,
        name_en=counter.name_en,
        slot_minutes=counter.slot_minutes,
        capacity=counter.capacity,
        sample=counter.sample,
        days=[
            DayOut(
                date=day.day.isoformat(),
                closed=day.closed,
                slots=[
                    SlotOut(start=s.start.isoformat(), free=s.free) for s in day.slots if not s.past
                ],
            )
            for day in days
        ],
    )
