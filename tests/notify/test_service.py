"""Notices and who they reach: topics, towns, the alert event, idempotency, bad input."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityos.core.errors import ValidationProblem
from cityos.core.events import AlertPublished, emit
from cityos.db import Database
from cityos.notify import filters, service
from cityos.notify.models import Delivery, Notice, Subscription


def subscriber(
    db: Database, name: str, *, towns: list[str], topics: list[str], channel: str = "webhook"
) -> str:
    with db.session() as session:
        row = Subscription(
            channel=channel,
            address=f"http://127.0.0.1:9/{name}",
            status="active",
            towns=towns,
            topics=topics,
            secret="s" * 20,
            label=name,
        )
        session.add(row)
        session.flush()
        return row.id


def reached(db: Database, notice_id: str) -> set[str]:
    with db.session() as session:
        rows = session.execute(
            select(Subscription.label)
            .join(Delivery, Delivery.subscription_id == Subscription.id)
            .where(Delivery.notice_id == notice_id)
        )
        return {label for (label,) in rows}


def notice(**fields: object) -> service.NoticeInput:
    values: dict[str, object] = {
        "topic": "防災",
        "title_ja": "避難指示",
        "body_ja": "避難してください",
    }
    values.update(fields)
    return service.NoticeInput(**values)  # type: ignore[arg-type]


def test_a_notice_to_towns_reaches_only_matching_subscribers(db: Database) -> None:
    subscriber(db, "shimorenjaku", towns=["下連雀"], topics=["disaster"])
    subscriber(db, "shimorenjaku-3", towns=["下連雀三丁目"], topics=["disaster"])
    subscriber(db, "shimorenjaku-4", towns=["下連雀四丁目"], topics=["disaster"])
    subscriber(db, "nozaki", towns=["野崎"], topics=["disaster"])
    subscriber(db, "whole-city", towns=[], topics=["disaster"])
    subscriber(db, "crime-only", towns=[], topics=["crime"])
    with db.session() as session:
        to_chome = service.enqueue_notice(session, notice(towns=["下連雀3丁目"]))
        to_town = service.enqueue_notice(session, notice(towns=["しもれんじゃく"]))
        to_city = service.enqueue_notice(session, notice(towns=[]))
    assert to_chome.towns == ["下連雀三丁目"]
    assert reached(db, to_chome.id) == {"shimorenjaku", "shimorenjaku-3", "whole-city"}
    assert reached(db, to_town.id) == {
        "shimorenjaku", "shimorenjaku-3", "shimorenjaku-4", "whole-city",
    }  # fmt: skip
    assert reached(db, to_city.id) == {
        "shimorenjaku", "shimorenjaku-3", "shimorenjaku-4", "nozaki", "whole-city",
    }  # fmt: skip


def test_inactive_subscriptions_get_nothing(db: Database) -> None:
    sub_id = subscriber(db, "gone", towns=[], topics=["disaster"])
    with db.session() as session:
        found = session.get(Subscription, sub_id)
        assert found is not None
        service.unsubscribe(session, found)
        sent = service.enqueue_notice(session, notice())
    assert reached(db, sent.id) == set()


def test_bad_input_is_refused_field_by_field_and_nothing_is_written(db: Database) -> None:
    subscriber(db, "anyone", towns=[], topics=["disaster"])
    with db.session() as session, pytest.raises(ValidationProblem) as refused:
        service.enqueue_notice(
            session,
            notice(
                topic="天気",
                towns=["新宿"],
                title_ja="",
                body_ja="x" * 5001,
                url="ftp://example.jp/",
            ),
        )
    errors = refused.value.errors
    assert set(errors) == {"topic", "towns", "title_ja", "body_ja", "url"}
    assert "新宿" in errors["towns"][0]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 0
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_a_dedup_key_queues_a_notice_once(db: Database) -> None:
    subscriber(db, "anyone", towns=[], topics=["disaster"])
    with db.session() as session:
        first = service.enqueue_notice(session, notice(dedup_key="alert:1"))
    with db.session() as session:
        again = service.enqueue_notice(session, notice(dedup_key="alert:1", title_ja="別の題"))
    assert again.id == first.id
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1


def alert(**fields: object) -> AlertPublished:
    values: dict[str, object] = {
        "alert_id": "a1",
        "identifier": "urn:oid:mitaka:2026-1",
        "msg_type": "Alert",
        "level": 4,
        "hazard": "洪水",
        "towns": ("大沢", "野崎二丁目"),
        "headline_ja": "大沢・野崎に避難指示",
        "headline_en": "Evacuation order for Osawa and Nozaki",
        "text_ja": "野川が氾濫するおそれがあります。",
        "text_en": "The Nogawa river may flood.",
        "url": "https://city.mitaka.example/alerts/a1",
    }
    values.update(fields)
    return AlertPublished(**values)  # type: ignore[arg-type]


def test_an_alert_becomes_a_disaster_notice_for_its_towns_once(db: Database) -> None:
    subscriber(db, "osawa", towns=["大沢"], topics=["disaster"])
    subscriber(db, "nozaki-2", towns=["野崎二丁目"], topics=["disaster"])
    subscriber(db, "nozaki-1", towns=["野崎一丁目"], topics=["disaster"])
    subscriber(db, "osawa-crime", towns=["大沢"], topics=["crime"])
    made = service.on_alert_published(db, alert())
    assert made.topic == "disaster"
    assert made.towns == ["大沢", "野崎二丁目"]
    assert made.title_ja == "【警戒レベル4】大沢・野崎に避難指示"
    assert made.title_en == "[Alert level 4] Evacuation order for Osawa and Nozaki"
    assert made.source == "alert:a1"
    assert reached(db, made.id) == {"osawa", "nozaki-2"}
    # The same event handled again (a retry, a second process) queues nothing new.
    assert service.on_alert_published(db, alert()).id == made.id
    cancel = service.on_alert_published(db, alert(msg_type="Cancel", identifier="urn:2"))
    assert cancel.id != made.id
    assert cancel.title_ja.startswith("【解除】")
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 4


def test_an_alert_naming_an_unknown_town_goes_to_the_whole_city(db: Database) -> None:
    subscriber(db, "nozaki", towns=["野崎"], topics=["disaster"])
    made = service.on_alert_published(db, alert(towns=("大沢", "どこか")))
    assert made.towns == []
    assert reached(db, made.id) == {"nozaki"}


def test_the_app_event_bus_turns_committed_alerts_into_notices(app: FastAPI, db: Database) -> None:
    # wiring.connect subscribed notify to the app's events: only committed alerts count.
    with db.session() as session:
        session.add(
            Subscription(
                channel="webhook",
                address="http://127.0.0.1:9/",
                status="active",
                topics=["disaster"],
            )
        )
        emit(session, alert())
        session.rollback()  # the change is undone: no notice
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 0
        session.add(
            Subscription(
                channel="webhook",
                address="http://127.0.0.1:9/",
                status="active",
                topics=["disaster"],
            )
        )
        emit(session, alert())
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 1


def test_town_filters_accept_variants_and_name_what_is_wrong() -> None:
    assert filters.parse_towns(["ｼﾓﾚﾝｼﾞｬｸ", "井ノ頭", "Nozaki", "牟礼２", "三鷹市上連雀"]) == [
        "井の頭", "上連雀", "下連雀", "野崎", "牟礼二丁目",
    ]  # fmt: skip
    # A whole 町 covers its 丁目.
    assert filters.parse_towns(["下連雀", "下連雀三丁目"]) == ["下連雀"]
    assert filters.parse_towns(["全域", "野崎"]) == []
    with pytest.raises(filters.FilterError, match="吉祥寺"):
        filters.parse_towns(["野崎", "吉祥寺"])
    assert filters.parse_topics(["防犯", "disaster", "Environment"]) == [
        "disaster", "crime", "environment",
    ]  # fmt: skip
    with pytest.raises(filters.FilterError):
        filters.parse_topics(["天気"])


def test_disaster_mode_on_and_off_tell_the_towns_subscribers_where_to_go(
    client: TestClient, db: Database, auth_headers: dict[str, str]
) -> None:
    subscriber(db, "osawa", towns=["大沢"], topics=["disaster"])
    subscriber(db, "kitano", towns=["北野"], topics=["disaster"])
    subscriber(db, "crime-only", towns=[], topics=["crime"])
    on = client.put(
        "/api/disaster/mode",
        json={"active": True, "hazard": "flood", "towns": ["大沢"], "message_ja": "野川が増水"},
        headers=auth_headers,
    )
    assert on.status_code == 200
    client.put("/api/disaster/mode", json={"active": False}, headers=auth_headers)
    with db.session() as session:
        started, ended = session.scalars(select(Notice).order_by(Notice.created_at))
        titles = (started.title_ja, ended.title_ja)
        assert titles == (
            "【災害モード】洪水：開設中の避難所を確認してください",
            "【解除】災害モードを終了しました",
        )
        assert "野川が増水" in started.body_ja
        assert started.url == "http://testserver/disaster"
        assert started.title_en == "[Disaster mode] Flood: check the open shelters"
        ids = (started.id, ended.id)
    assert reached(db, ids[0]) == {"osawa"}
    assert reached(db, ids[1]) == {"osawa"}
