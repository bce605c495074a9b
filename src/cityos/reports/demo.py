"""Sample citizen reports for ``cityos demo``: a few dozen plausible reports around Mitaka,
each clearly labelled 【サンプル】, in every status, some with a drawn sample photo, so that
the map, the inbox and the numbers have something to show. Loaded once (idempotent)."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.models import User
from cityos.core.uploads import FileStore
from cityos.db import utcnow
from cityos.reports import photos, service
from cityos.reports.models import DECLINED, DONE, IN_PROGRESS, ServiceRequest

SUBMITTED_VIA = "demo"
LABEL = "【サンプル】"

# (service, description, answers to required questions), spread over the city's towns.
SAMPLES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("road_damage", "歩道のアスファルトに穴があいていて、つまずきそうです。", {"size": "medium"}),
    ("road_damage", "車道のひび割れが広がっています。", {"size": "large"}),
    ("road_damage", "マンホールのまわりに段差があります。", {"size": "small"}),
    ("streetlight", "夜になっても街路灯が点きません。", {"symptom": "off"}),
    ("streetlight", "街路灯が点滅しています。", {"symptom": "flickering"}),
    ("streetlight", "昼間も街路灯が点いたままです。", {"symptom": "on_in_daytime"}),
    ("park_equipment", "ブランコの鎖がさびて切れそうです。", {}),
    ("park_equipment", "すべり台の手すりがぐらついています。", {}),
    ("curve_mirror", "カーブミラーの向きがずれて見えにくいです。", {}),
    ("curve_mirror", "カーブミラーが割れています。", {}),
    ("illegal_dumping", "空き地に家電が捨てられています。", {}),
    ("illegal_dumping", "ごみ集積所の横に粗大ごみが置かれたままです。", {}),
    ("graffiti", "ガード下の壁にスプレーの落書きがあります。", {}),
    ("graffiti", "公園のトイレの壁に落書きがあります。", {}),
    ("abandoned_bicycle", "駅前の歩道に自転車が何週間も置かれています。", {}),
    ("abandoned_bicycle", "タイヤのない自転車が放置されています。", {}),
    ("fallen_tree", "強風で枝が折れて歩道をふさいでいます。", {}),
    ("fallen_tree", "街路樹の枝が標識を隠しています。", {}),
    ("drainage", "雨のたびに側溝があふれて水たまりになります。", {}),
    ("drainage", "側溝のふたが外れています。", {}),
    ("other", "歩道のベンチが壊れています。", {}),
    ("other", "案内板の文字が消えて読めません。", {}),
)
COUNT = 36


def _sample_photo(rng: random.Random, number: int) -> photos.PreparedPhoto:
    """A drawn picture marked SAMPLE (no real place, no person) as a camera photo stand-in."""
    picture = Image.new("RGB", (960, 720), (rng.randrange(90, 200), rng.randrange(90, 200), 160))
    draw = ImageDraw.Draw(picture)
    for _ in range(12):
        x, y = rng.randrange(0, 900), rng.randrange(0, 660)
        draw.rectangle(
            (x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 120)), fill=(60, 60, 60)
        )
    draw.rectangle((0, 0, 960, 90), fill=(255, 255, 255))
    draw.text((24, 30), f"SAMPLE PHOTO #{number} - City OS demo", fill=(180, 0, 0))
    out = io.BytesIO()
    picture.save(out, "JPEG")
    out.seek(0)
    return photos.prepare(out)


def load_demo_reports(
    session: Session,
    admin: User,
    files: FileStore,
    *,
    city: str,
    site_url: str,
    now: datetime | None = None,
) -> int:
    """Add the sample reports unless they are there; how many were added."""
    if session.scalar(
        select(ServiceRequest.id).where(ServiceRequest.submitted_via == SUBMITTED_VIA).limit(1)
    ):
        return 0
    rng = random.Random(311)
    now = now or utcnow()
    towns = list(service.city_towns(city).items())
    added = 0
    for number in range(COUNT):
        code, text, answers = SAMPLES[number % len(SAMPLES)]
        _town, (lat, lon) = towns[rng.randrange(len(towns))]
        when = now - timedelta(days=rng.uniform(0.5, 60), minutes=rng.randrange(0, 600))
        new = service.NewRequest(
            service_code=code,
            lat=f"{lat + rng.uniform(-0.0015, 0.0015):.6f}",
            long=f"{lon + rng.uniform(-0.0015, 0.0015):.6f}",
            description=f"{LABEL}{text}",
            attributes={key: [value] for key, value in answers.items()},
        )
        # Any other required question gets the first of its answers.
        for attribute in service.get_service(session, code).attributes:
            if attribute.get("required") and attribute["code"] not in new.attributes:
                new.attributes[attribute["code"]] = [attribute["values"][0]["key"]]
        if number % 3 == 0:
            new.photo = _sample_photo(rng, number + 1)
        request = service.submit_request(
            session, new, city=city, submitted_via=SUBMITTED_VIA, now=when,
            files=files, site_url=site_url,
        )  # fmt: skip
        added += 1
        fate = number % 6
        if fate in (1, 2, 3, 4):
            service.change_status(
                session, request.id, IN_PROGRESS, actor=admin,
                note=f"{LABEL}現地を確認し、対応を手配しました。",
                now=min(now, when + timedelta(days=rng.uniform(0.2, 2))),
            )  # fmt: skip
        if fate in (2, 3):
            service.change_status(
                session, request.id, DONE, actor=admin,
                note=f"{LABEL}対応が完了しました。ご報告ありがとうございました。",
                now=min(now, when + timedelta(days=rng.uniform(2, 12))),
            )  # fmt: skip
        if fate == 4:
            service.change_status(
                session, request.id, DECLINED, actor=admin,
                note=f"{LABEL}市の管理ではないため、管理者に連絡しました。",
                now=min(now, when + timedelta(days=rng.uniform(2, 6))),
            )  # fmt: skip
    return added
