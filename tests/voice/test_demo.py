"""The voice demo: sample consultations, opinions and imported texts that the pages show."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityos.core.models import User
from cityos.db import Database
from cityos.voice import demo
from cityos.voice.models import Opinion, VoiceText
from tests.conftest import login


def test_the_demo_loads_labelled_samples_once_and_the_pages_show_them(
    client: TestClient, db: Database, admin: User
) -> None:
    with db.session() as session:
        user = session.get(User, admin.id)
        assert user is not None
        first = demo.load_demo(session, user)
    assert first.consultations == 2
    assert first.opinions > 200
    assert 0 < first.pending < 30
    assert first.inquiries > 100
    assert first.sns > 100
    with db.session() as session:
        user = session.get(User, admin.id)
        assert user is not None
        assert demo.load_demo(session, user).consultations == 0
        texts = session.scalar(select(func.count()).select_from(VoiceText))
        assert texts == first.opinions - first.pending + first.inquiries + first.sns
        assert session.scalar(select(func.count()).where(~VoiceText.sample)) == 0
        pending = session.scalars(select(Opinion).where(Opinion.status == "pending")).all()
        assert all("●●●" in opinion.published_text for opinion in pending)
    listing = client.get("/voice").text
    assert listing.count("サンプル（デモ用）") == 2
    closed = client.get("/voice/2/results")
    assert closed.status_code == 200
    assert "【サンプル】お寄せいただいたご意見" in closed.text
    login(client)
    analysis = client.get("/staff/voice").text
    assert analysis.count('class="panel voice-topic"') >= 10
    assert "サンプル" in analysis


def test_an_opinion_published_after_the_import_joins_the_topic_of_its_words(
    client: TestClient, db: Database, admin: User
) -> None:
    with db.session() as session:
        user = session.get(User, admin.id)
        assert user is not None
        demo.load_demo(session, user)
        labels = set(session.scalars(select(VoiceText.topic)))
    garbage = [label for label in labels if "ごみ" in label.split("・")]
    assert garbage
    page = client.get("/voice/1")
    from tests.conftest import csrf_of

    answer = client.post(
        "/voice/1/opinions",
        data={"text": "ごみの分別のルールが複雑すぎます。", "csrf_token": csrf_of(page.text)},
    )
    assert answer.status_code == 201
    with db.session() as session:
        mine = session.scalars(
            select(VoiceText).where(VoiceText.text == "ごみの分別のルールが複雑すぎます。")
        ).one()
    assert "ごみ" in mine.topic.split("・")
