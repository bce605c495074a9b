"""Demo data of the citizens' voice (``cityos demo``): two sample consultations — one open,
one closed with the city's response — with residents' opinions, and sample inquiries and SNS
posts, all from the fictional texts in ``data/demo_texts.jsonl`` and all marked as samples.

Loading twice adds nothing: the sample consultations are found by title.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core import text as jtext
from cityos.core.models import User
from cityos.db import utcnow
from cityos.voice import service
from cityos.voice.models import Consultation

OPEN_TITLE = (
    "【サンプル】公園・緑と暮らしについての意見募集 / [Sample] Parks, greenery and daily life"
)
CLOSED_TITLE = (
    "【サンプル】三鷹市の行政サービス全般についての意見募集（終了） / "
    "[Sample] City services in general (closed)"
)
# Written for the demo so that the moderation queue has something to show: each carries
# personal information (invented) that the checks mask.
NEEDS_REVIEW = (
    "公園の遊具が壊れたままです。詳しくは090-1234-5678までご連絡ください。",
    "下連雀9-99-99の前の歩道に木の枝がはみ出していて危ないです。",
    "公園で毎朝ラジオ体操をしている鈴木さんたちの音が大きすぎます。",
)
OPEN_TOPICS = ("公園", "緑", "樹", "木", "花", "川", "自然", "ごみ", "ゴミ", "遊具", "散歩", "犬")


@dataclass
class DemoReport:
    consultations: int = 0
    opinions: int = 0
    pending: int = 0
    inquiries: int = 0
    sns: int = 0


def demo_texts() -> list[dict[str, str]]:
    raw = (resources.files("cityos.voice") / "data" / "demo_texts.jsonl").read_bytes()
    return [orjson.loads(line) for line in raw.splitlines() if line.strip()]


def load_demo(session: Session, admin: User, now: datetime | None = None) -> DemoReport:
    report = DemoReport()
    now = now or utcnow()
    # Titles are stored normalized (NFKC: （終了） is kept as (終了)).
    titles = {
        title
        for stored in session.scalars(select(Consultation.title).where(Consultation.sample))
        for title in (OPEN_TITLE, CLOSED_TITLE)
        if jtext.normalize(title) == stored
    }
    texts = demo_texts()
    towns = service.city_towns("三鷹市")
    opinions = [t for t in texts if t["source"] == "opinion"]
    if OPEN_TITLE not in titles:
        consultation = service.create_consultation(
            session, admin, title=OPEN_TITLE, sample=True,
            description=(
                "これはデモ用のサンプルです。公園や緑、身近な環境について、ご意見をお寄せください。\n"
                "This is a demo sample: tell the city what you think about parks, greenery and "
                "the environment near you."
            ),
            opens_at=now - timedelta(days=20), closes_at=now + timedelta(days=10),
        )  # fmt: skip
        service.add_document(session, admin, consultation, title="三鷹市 公式サイト（参考） / "
                             "Mitaka City web site", url="https://www.city.mitaka.lg.jp/")  # fmt: skip
        chosen = [t for t in opinions if any(word in t["text"] for word in OPEN_TOPICS)]
        chosen += [{"id": f"review-{n}", "text": text} for n, text in enumerate(NEEDS_REVIEW)]
        _post(session, consultation, chosen, towns, now - timedelta(days=19), report)
        report.consultations += 1
    if CLOSED_TITLE not in titles:
        opened = now - timedelta(days=75)
        consultation = service.create_consultation(
            session, admin, title=CLOSED_TITLE, sample=True,
            description=(
                "これはデモ用のサンプルです（募集は終了しました）。\n"
                "This is a demo sample (the consultation has closed)."
            ),
            opens_at=opened, closes_at=now - timedelta(days=15),
        )  # fmt: skip
        chosen = [t for t in opinions if not any(word in t["text"] for word in OPEN_TOPICS)]
        _post(session, consultation, chosen, towns, opened + timedelta(days=1), report)
        service.set_response(session, admin, consultation, (
            "【サンプル】お寄せいただいたご意見は、担当課で検討し、来年度の計画に反映します。\n"
            "[Sample] The departments concerned will consider the opinions for next year's plan."
        ))  # fmt: skip
        report.consultations += 1
    if report.consultations:
        for source in ("inquiry", "sns"):
            rows = [
                service.ImportRow(
                    0,
                    f"demo-{t['id']}",
                    t["text"],
                    t.get("town") or "",
                    service.parse_when(t["created_at"]),
                )
                for t in texts
                if t["source"] == source
            ]
            stored = service.store_texts(session, source, rows, sample=True, regroup=False)
            setattr(report, "inquiries" if source == "inquiry" else "sns", stored.stored)
        service.regroup_topics(session)
    return report


def _post(
    session: Session,
    consultation: Consultation,
    chosen: list[dict[str, str]],
    towns: list[str],
    when: datetime,
    report: DemoReport,
) -> None:
    for index, item in enumerate(chosen):
        town = item.get("town") or ""
        opinion = service.post_opinion(
            session, consultation, text=item["text"], town=town if town in towns else "",
            towns=towns, now=when, regroup=False,
            # Spread over the period, so the trend charts have a shape.
            written_at=when + timedelta(hours=7 * index),
        )  # fmt: skip
        opinion.supports = (index * 7) % 13
        report.opinions += 1
        report.pending += opinion.status == "pending"
