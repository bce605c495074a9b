"""Posts sent over HTTP are triaged and stored; staff work the queue, mark posts, export them
for the fire service, read area summaries and ask questions — through the real ASGI app on
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.core import auth
from cityos.core.models import User
from cityos.db import Database
from cityos.sns.models import SnsPost

POSTS: list[dict[str, Any]] = [
    {"id": "a1", "text": "助けて！大沢4丁目で家に水が入ってきて祖母が動けません #救助",
     "created_at": "2026-09-14T10:00:00+09:00", "user": "@tanaka_hanako"},
    {"id": "a2", "text": "大沢の避難所、ミルクとおむつが足りません。赤ちゃんが3人います",
     "created_at": "2026-09-14T10:05:00+09:00", "user": "mama_osawa"},
    {"id": "a3", "text": "下連雀3丁目 停電しています。信号も消えてる",
     "created_at": "2026-09-14T10:07:00+09:00", "user": "shimo3"},
    {"id": "a4", "text": "RT @tanaka_hanako: 助けて！大沢4丁目で家に水が入ってきて祖母が動けません #救助",
     "created_at": "2026-09-14T10:08:00+09:00", "user": "kakusan", "retweet_of": "a1"},
    {"id": "a5", "text": "今日のランチおいしかった", "created_at": "2026-09-14T10:09:00+09:00"},
    {"id": "a6", "text": "野崎でも停電、電気がつかない", "created_at": "2026-09-14T10:10:00+09:00"},
    {"id": "a7", "text": "大沢二丁目の避難所で毛布が足りないそうです",
     "created_at": "2026-09-14T10:11:00+09:00"},
]  # fmt: skip


def ndjson(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows)


def send(client: TestClient, headers: dict[str, str], body: bytes) -> Any:
    return client.post(
        "/api/sns/posts",
        content=body,
        headers={**headers, "Content-Type": "application/x-ndjson"},
    )


@pytest.fixture
def stored(client: TestClient, auth_headers: dict[str, str]) -> dict[str, Any]:
    response = send(client, auth_headers, ndjson(POSTS))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_batch_is_stored_with_bad_lines_reported_and_the_poster_only_hashed(
    client: TestClient, auth_headers: dict[str, str], db: Database
) -> None:
    body = (
        ndjson(POSTS[:2])
        + b'{"id": "b1", "text": ""}\n'
        + b"not json\n"
        + b'{"id": "b2", "text": "\xff\xfe"}\n'
        + ndjson([{"id": "a1", "text": "again"}, {"text": "no id"}])
        + ndjson([{"id": "b3", "text": "<script>alert(1)</script>大沢で冠水"}])
    )
    response = send(client, auth_headers, body)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["stored"] == 3
    reasons = {p["line"]: p["reason"] for p in report["problems"]}
    assert set(reasons) == {3, 4, 5, 6, 7}
    assert "empty" in reasons[3]
    assert "not JSON" in reasons[4]
    assert "UTF-8" in reasons[5]
    assert "duplicate" in reasons[6]
    assert "id" in reasons[7]
    with db.session() as session:
        rows = {r.post_id: r for r in session.scalars(select(SnsPost))}
        assert set(rows) == {"a1", "a2", "b3"}
        a1 = rows["a1"]
        assert a1.category == "rescue_request"
        assert a1.town == "大沢四丁目"
        assert len(a1.poster_hash) == 32
        everything = json.dumps(
            [[getattr(r, c.key) for c in SnsPost.__table__.columns] for r in rows.values()],
            default=str,
            ensure_ascii=False,
        )
        assert "tanaka_hanako" not in everything, "the poster must be stored only as a hash"
        assert "mama_osawa" not in everything
    # The same account gives the same hash (several posts from one account can be seen).
    again = send(
        client, auth_headers, ndjson([{"id": "c1", "text": "大沢で冠水", "user": "tanaka_hanako"}])
    )
    assert again.status_code == 200
    with db.session() as session:
        hashes = dict(session.execute(select(SnsPost.post_id, SnsPost.poster_hash)).all())
        assert hashes["c1"] == hashes["a1"]


def test_sending_a_batch_twice_stores_nothing_twice_and_a_later_retweet_joins_its_group(
    client: TestClient, auth_headers: dict[str, str], stored: dict[str, Any], db: Database
) -> None:
    assert stored["stored"] == len(POSTS)
    assert stored["copies"] == 1  # a4 is a retweet of a1
    again = send(client, auth_headers, ndjson(POSTS)).json()
    assert again["stored"] == 0
    assert again["already_received"] == len(POSTS)
    later = send(
        client,
        auth_headers,
        ndjson([{"id": "d1", "text": "RT @x: whatever", "retweet_of": "a1",
                 "created_at": "2026-09-14T11:00:00+09:00"},
                {"id": "d2", "text": "助けて！大沢4丁目で家に水が入ってきて祖母が動けません #救助 https://t.co/zz",
                 "created_at": "2026-09-14T09:59:00+09:00"}]),
    ).json()  # fmt: skip
    assert later["stored"] == 2
    with db.session() as session:
        rows = {r.post_id: r for r in session.scalars(select(SnsPost))}
        assert session.scalar(select(SnsPost.id).where(SnsPost.post_id == "a1")) is not None
        # d2 is a near-copy posted before a1: the group's earliest now stands for it.
        assert rows["d2"].duplicate_of is None
        assert rows["d2"].copies == 4
        assert {rows[k].duplicate_of for k in ("a1", "a4", "d1")} == {"d2"}


def test_the_endpoint_refuses_what_it_cannot_take(
    client: TestClient, auth_headers: dict[str, str], db: Database
) -> None:
    assert send(client, {}, ndjson(POSTS)).status_code == 401
    assert send(client, {"Authorization": "cityos_wrong"}, ndjson(POSTS)).status_code == 401
    with db.session() as session:
        analyst = auth.create_user(session, "ana", "analyst", "analyst-password-1")
        token = auth.issue_token(session, analyst, "t")
    refused = send(client, {"Authorization": token}, ndjson(POSTS))
    assert refused.status_code == 403
    wrong_type = client.post(
        "/api/sns/posts",
        content=b"id,text\n1,x",
        headers={**auth_headers, "Content-Type": "text/csv"},
    )
    assert wrong_type.status_code == 415
    assert "JSON" in wrong_type.json()["detail"]
    nothing = send(client, auth_headers, b"\n\nnot json\n")
    assert nothing.status_code == 422
    assert "1" in json.dumps(nothing.json()["errors"]) or "3" in json.dumps(
        nothing.json()["errors"]
    )
    as_array = client.post("/api/sns/posts", json=POSTS[:2], headers=auth_headers)
    assert as_array.status_code == 200
    assert as_array.json()["stored"] == 2
    not_array = client.post("/api/sns/posts", json={"id": 1}, headers=auth_headers)
    assert not_array.status_code == 422
    with db.session() as session:
        assert session.scalar(select(SnsPost.post_id).where(SnsPost.post_id == "a3")) is None


def test_the_queue_puts_rescue_first_filters_and_leaves_noise_and_copies_out(
    client: TestClient, auth_headers: dict[str, str], stored: dict[str, Any]
) -> None:
    assert client.get("/api/sns/queue").status_code == 401
    body = client.get("/api/sns/queue", headers=auth_headers).json()
    ids = [item["post_id"] for item in body["items"]]
    assert ids[0] == "a1"
    assert body["items"][0]["urgency"] == "high"
    assert body["items"][0]["copies"] == 2
    assert "a4" not in ids, "a retweet is counted on its original, not queued again"
    assert "a5" not in ids, "not relevant posts stay out of the queue"
    assert body["items"][0]["explanation"]["category"].startswith("rescue_request")
    supplies = client.get(
        "/api/sns/queue", params={"category": "supplies_need", "town": "大沢"}, headers=auth_headers
    ).json()["items"]
    assert {i["post_id"] for i in supplies} == {"a2", "a7"}
    power = client.get(
        "/api/sns/queue", params={"category": "infrastructure"}, headers=auth_headers
    ).json()["items"]
    assert {i["post_id"] for i in power} == {"a3", "a6"}
    bad = client.get("/api/sns/queue", params={"category": "gossip"}, headers=auth_headers)
    assert bad.status_code == 422


def test_an_indirect_call_for_rescue_tops_the_queue_and_jokes_about_rescue_stay_out(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    batch = [
        {"id": "b1", "text": "中原の避難所って何時まで開いてますか？",
         "created_at": "2026-09-14T11:00:00+09:00"},
        {"id": "b2", "text": "宿題の山に埋もれて救助待ち（笑）",
         "created_at": "2026-09-14T11:01:00+09:00"},
        {"id": "b3", "text": "トルコの地震、救助活動のニュースずっと見てる。心が痛い",
         "created_at": "2026-09-14T11:02:00+09:00"},
        {"id": "b4", "text": "野崎2丁目、停電した。冷蔵庫が止まってる",
         "created_at": "2026-09-14T11:03:00+09:00"},
        {"id": "b5", "text": "向かいのおじいさん、雨戸が閉まったままで呼んでも返事がない。"
                             "庭はもう膝まで水。新川2丁目",
         "created_at": "2026-09-14T11:04:00+09:00"},
    ]  # fmt: skip
    assert send(client, auth_headers, ndjson(batch)).status_code == 200
    items = client.get("/api/sns/queue", headers=auth_headers).json()["items"]
    top = items[0]
    assert (top["post_id"], top["category"], top["urgency"]) == ("b5", "rescue_request", "high")
    assert top["town"] == "新川二丁目"
    calls = [i["post_id"] for i in items if i["category"] == "rescue_request"]
    assert calls == ["b5"], "a joke or far-away news about 救助 is no call for rescue"
    assert {"b2", "b3"}.isdisjoint(i["post_id"] for i in items)


def test_staff_mark_posts_and_the_fire_service_export_says_who_and_when(
    client: TestClient, auth_headers: dict[str, str], stored: dict[str, Any], admin: User
) -> None:
    queue = client.get("/api/sns/queue", headers=auth_headers).json()["items"]
    rescue = next(i for i in queue if i["post_id"] == "a1")
    marked = client.post(
        f"/api/sns/posts/{rescue['id']}/mark",
        json={"mark": "fire_service", "note": "三鷹消防署へ電話 10:20"},
        headers=auth_headers,
    )
    assert marked.status_code == 200, marked.text
    assert marked.json()["marked_by"] == admin.name
    assert marked.json()["marked_at"]
    detail = client.get(f"/api/sns/posts/{rescue['id']}", headers=auth_headers).json()
    assert detail["marks"][0]["note"] == "三鷹消防署へ電話 10:20"
    assert detail["marks"][0]["by"] == admin.name
    open_ids = [
        i["post_id"] for i in client.get("/api/sns/queue", headers=auth_headers).json()["items"]
    ]
    assert "a1" not in open_ids
    passed = client.get(
        "/api/sns/queue", params={"mark": "fire_service"}, headers=auth_headers
    ).json()["items"]
    assert [i["post_id"] for i in passed] == ["a1"]
    bad = client.post(
        f"/api/sns/posts/{rescue['id']}/mark", json={"mark": "lost"}, headers=auth_headers
    )
    assert bad.status_code == 422
    missing = client.post(
        "/api/sns/posts/nope/mark", json={"mark": "handled"}, headers=auth_headers
    )
    assert missing.status_code == 404

    export = client.get("/api/sns/export.csv", params={"mark": ""}, headers=auth_headers)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert export.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["post_id", "posted_at", "category"]
    assert rows[1][:3] == ["投稿ID", "投稿日時", "分類"]
    first = dict(zip(rows[0], rows[2], strict=True))
    assert first["post_id"] == "a1"
    assert first["category"] == "救助要請"
    assert first["town"] == "大沢四丁目"
    assert first["posted_at"] == "2026-09-14 10:00"  # Japan time
    assert first["mark"] == "消防へ連絡済み"
    assert first["marked_by"] == admin.name

    # An earlier copy of the marked post arrives later: the group stays marked, not new again.
    earlier = {
        "id": "e1",
        "text": POSTS[0]["text"] + " #拡散",
        "created_at": "2026-09-14T09:58:00+09:00",
    }
    assert send(client, auth_headers, ndjson([earlier])).json()["stored"] == 1
    queue_now = client.get("/api/sns/queue", params={"mark": ""}, headers=auth_headers).json()
    leader = next(i for i in queue_now["items"] if i["copies"] == 3)
    assert leader["post_id"] == "e1"
    assert leader["mark"] == "fire_service"
    assert leader["marked_by"] == admin.name


def test_area_summaries_count_by_town_and_quote_representative_posts(
    client: TestClient, auth_headers: dict[str, str], stored: dict[str, Any]
) -> None:
    window = {"since": "2026-09-14T09:00:00+09:00", "until": "2026-09-14T12:00:00+09:00"}
    body = client.get("/api/sns/summaries", params=window, headers=auth_headers)
    assert body.status_code == 200, body.text
    areas = body.json()["areas"]
    assert areas[0]["town"] == "大沢", "the town with a call for rescue needs help most"
    osawa = areas[0]
    assert osawa["counts"] == {"rescue_request": 1, "supplies_need": 2}
    assert osawa["posts"] == 4  # the retweet counts
    assert osawa["level"] == 3
    assert osawa["summary_ja"].startswith("大沢：救助要請1件、物資の不足2件。「")
    assert "祖母が動けません" in osawa["summary_ja"]
    assert osawa["representatives"][0]["post_id"] == "a1"
    towns = {a["town"] for a in areas}
    assert towns == {"大沢", "下連雀", "野崎"}
    before = client.get(
        "/api/sns/summaries",
        params={"since": "2026-09-13T00:00:00+09:00", "until": "2026-09-14T09:00:00+09:00"},
        headers=auth_headers,
    )
    assert before.json()["areas"] == []
    backwards = client.get(
        "/api/sns/summaries",
        params={"since": window["until"], "until": window["since"]},
        headers=auth_headers,
    )
    assert backwards.status_code == 200
    assert backwards.json()["areas"] == []
    assert "before it starts" in backwards.json()["note"]


def test_questions_are_answered_from_the_posts_with_evidence(
    client: TestClient, auth_headers: dict[str, str], stored: dict[str, Any]
) -> None:
    short = client.get(
        "/api/sns/ask", params={"q": "大沢で何が不足している？"}, headers=auth_headers
    )
    assert short.status_code == 200, short.text
    answer = short.json()
    assert answer["town"] == "大沢"
    assert answer["intent"] == "supplies"
    names = [item["name_ja"] for item in answer["items"]]
    assert {"ミルク", "おむつ", "毛布"} <= set(names)
    assert "ミルク" in answer["answer_ja"]
    assert {e["post_id"] for e in answer["evidence"]} == {"a2", "a7"}
    power = client.get(
        "/api/sns/ask", params={"q": "停電しているのはどこ？"}, headers=auth_headers
    ).json()
    assert power["intent"] == "outage"
    assert {t["town"] for t in power["towns"]} == {"下連雀", "野崎"}
    assert "下連雀" in power["answer_ja"]
    assert {e["post_id"] for e in power["evidence"]} == {"a3", "a6"}
    english = client.get(
        "/api/sns/ask", params={"q": "Where is the power out?"}, headers=auth_headers
    ).json()
    assert {t["town"] for t in english["towns"]} == {"下連雀", "野崎"}
    osawa = client.get(
        "/api/sns/ask", params={"q": "What is running short in Osawa?"}, headers=auth_headers
    ).json()
    assert osawa["town"] == "大沢"
    assert osawa["answer_en"].startswith("Reported short in Osawa: ")
    assert "milk" in osawa["answer_en"]
    empty = client.get("/api/sns/ask", params={"q": "  "}, headers=auth_headers)
    assert empty.status_code == 422
