"""Tables of the procedures domain: one row per procedure of the city's catalog.

Texts come in Japanese, English and やさしい日本語 (``easy``); lists of texts (what to bring)
are JSON lists of ``{"ja": ..., "en": ..., "easy": ...}``. The catalog is written from public knowledge,
not copied from an official source (see ``data/procedures.json``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.db import Base, utcnow

LIFE_EVENTS: dict[str, tuple[str, str, str]] = {
    # key: (Japanese, English, やさしい日本語)
    "move_in": ("転入（市外から引っ越してきた）", "Moving into the city", "ほかの まちから ひっこして きた"),
    "move_out": ("転出（市外へ引っ越す）", "Moving out of the city", "ほかの まちへ ひっこす"),
    "move_within": ("市内での引っ越し（転居）", "Moving within the city", "おなじ まちの なかで ひっこす"),
    "birth": ("出産", "Birth of a child", "こどもが うまれた"),
    "marriage": ("結婚", "Marriage", "けっこんする"),
    "divorce": ("離婚", "Divorce", "りこんする"),
    "death": ("おくやみ（家族が亡くなった）", "Death in the family", "かぞくが なくなった"),
    "care": ("介護が必要になった", "Starting long-term care", "かいごが ひつようになった"),
    "school": ("入園・入学", "Entering nursery or school", "ほいくえん・がっこうに はいる"),
    "pregnancy": ("妊娠", "Pregnancy", "にんしんした"),
    "retirement": ("退職・就職", "Leaving or starting a job", "しごとを やめた・はじめた"),
    "daily": ("くらし（いつでも）", "Everyday procedures", "くらしの てつづき"),
}  # fmt: skip


class Procedure(Base):
    """One procedure a resident does with the city (転入届, 児童手当 ...)."""

    __tablename__ = "procedures"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    name_easy: Mapped[str] = mapped_column(String(200), default="")
    summary_ja: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    summary_easy: Mapped[str] = mapped_column(Text, default="")
    department_ja: Mapped[str] = mapped_column(String(100))
    department_en: Mapped[str] = mapped_column(String(100))
    who_ja: Mapped[str] = mapped_column(Text, default="")
    who_en: Mapped[str] = mapped_column(Text, default="")
    bring: Mapped[list[Any]] = mapped_column(default=list)  # [{"ja", "en", "easy"}]
    fee_ja: Mapped[str] = mapped_column(String(200), default="")
    fee_en: Mapped[str] = mapped_column(String(200), default="")
    # Days after the event within which it must be done; None where there is no legal limit.
    deadline_days: Mapped[int | None] = mapped_column(default=None)
    deadline_ja: Mapped[str] = mapped_column(String(200), default="")
    deadline_en: Mapped[str] = mapped_column(String(200), default="")
    deadline_easy: Mapped[str] = mapped_column(String(200), default="")
    online: Mapped[bool] = mapped_column(default=False)
    online_ja: Mapped[str] = mapped_column(Text, default="")
    online_en: Mapped[str] = mapped_column(Text, default="")
    where_ja: Mapped[str] = mapped_column(String(200), default="")
    where_en: Mapped[str] = mapped_column(String(200), default="")
    where_easy: Mapped[str] = mapped_column(String(200), default="")
    forms: Mapped[list[Any]] = mapped_column(default=list)  # ["住民異動届", ...]
    related: Mapped[list[Any]] = mapped_column(default=list)  # procedure ids
    events: Mapped[list[Any]] = mapped_column(default=list)  # LIFE_EVENTS keys
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")
