"""Consultations through the real app: residents post and support opinions, personal
information is masked and waits for staff, staff publish or hide with a reason, and the
results page opens after the period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.core import audit
from cityos.core.models import User
from cityos.db import Database, utcnow
from cityos.voice import service
from cityos.voice.models import Consultation, Opinion, VoiceText
from tests.conftest import csrf_of, login


def post_opinion(client: TestClient, cid: int, text: str, **fields: str) -> object:
    page = client.get(f"/voice/{cid}")
    assert page.status_code == 200
    return client.post(
        f"/voice/{cid}/opinions",
        data={"text": text, "csrf_token": csrf_of(page.text), **fields},
    )


def test_a_clean_opinion_is_published_at_once_and_analysed(
    client: TestClient, db: Database, make_consultation: Callable[..., int]
) -> None:
    cid = make_consultation()
    answer = post_opinion(client, cid, "公園のベンチが増えて、散歩がとても楽しくなりました。",
                          nickname="みどり", town="下連雀")  # fmt: skip
    assert answer.status_code == 201, answer.text  # type: ignore[attr-defined]
    assert "公開されました" in answer.text  # type: ignore[attr-defined]
    page = client.get(f"/voice/{cid}").text
    assert "公園のベンチが増えて" in page
    assert "みどり" in page
    with db.session() as session:
        row = session.scalars(select(VoiceText)).one()
        assert (row.source, row.town, row.sentiment) == ("opinion", "下連雀", "positive")
        assert row.consultation_id == cid


def test_an_opinion_with_a_phone_number_waits_masked_until_staff_publish_it(
    client: TestClient, db: Database, admin: User, make_consultation: Callable[..., int]
) -> None:
    cid = make_consultation()
    answer = post_opinion(client, cid, "遊具が壊れています。詳しくは090-1234-5678の田中さんまで。")
    assert answer.status_code == 201  # type: ignore[attr-defined]
    assert "職員が確認してから公開します" in answer.text  # type: ignore[attr-defined]
    assert "090-1234-5678" not in answer.text  # type: ignore[attr-defined]
    assert "遊具が壊れています" not in client.get(f"/voice/{cid}").text
    login(client)
    queue = client.get("/staff/voice/moderation")
    assert "遊具が壊れています。詳しくは●●●の●●●さんまで。" in queue.text
    assert "電話番号" in queue.text
    assert "個人名" in queue.text
    with db.session() as session:
        opinion_id = session.scalars(select(Opinion.id)).one()
    refused = client.post(f"/staff/voice/opinions/{opinion_id}/moderate",
                          data={"action": "publish", "reason": " ", "csrf_token": csrf_of(queue.text)})  # fmt: skip
    assert refused.status_code == 422
    assert "理由" in refused.text
    done = client.post(
        f"/staff/voice/opinions/{opinion_id}/moderate",
        data={"action": "publish", "reason": "伏せ字で公開", "csrf_token": csrf_of(queue.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    public = client.get(f"/voice/{cid}").text
    assert "遊具が壊れています。詳しくは●●●の●●●さんまで。" in public
    assert "090-1234-5678" not in public
    assert "田中" not in public
    with db.session() as session:
        entries = audit.recent(session, target_type="voice_opinion")
        assert [(e.action, e.summary, e.actor_name) for e in entries] == [
            ("voice.opinion.publish", "伏せ字で公開", "admin")
        ]
        assert session.scalars(select(VoiceText.text)).one().count("●●●") == 2


def test_hiding_a_published_opinion_takes_it_out_of_the_page_and_the_analysis(
    client: TestClient, db: Database, make_consultation: Callable[..., int]
) -> None:
    cid = make_consultation()
    post_opinion(client, cid, "図書館の開館時間を延ばしてほしいです。")
    login(client)
    queue = client.get("/staff/voice/moderation?status=published")
    with db.session() as session:
        opinion_id = session.scalars(select(Opinion.id)).one()
    client.post(f"/staff/voice/opinions/{opinion_id}/moderate",
                data={"action": "hide", "reason": "重複投稿", "csrf_token": csrf_of(queue.text)})  # fmt: skip
    assert "図書館の開館時間" not in client.get(f"/voice/{cid}").text
    with db.session() as session:
        assert session.scalars(select(VoiceText)).all() == []
        assert session.get(Opinion, opinion_id).status == "hidden"  # type: ignore[union-attr]


def test_bad_opinions_get_a_clear_error_and_nothing_is_stored(
    client: TestClient, db: Database, make_consultation: Callable[..., int]
) -> None:
    cid = make_consultation()
    empty = post_opinion(client, cid, "   ")
    assert empty.status_code == 422  # type: ignore[attr-defined]
    assert "ご意見を入力してください" in empty.text  # type: ignore[attr-defined]
    long = post_opinion(client, cid, "あ" * 4001)
    assert long.status_code == 422  # type: ignore[attr-defined]
    assert "4000文字まで" in long.text  # type: ignore[attr-defined]
    town = post_opinion(client, cid, "よい取り組みです", town="大阪市北区")
    assert town.status_code == 422  # type: ignore[attr-defined]
    assert "市内にありません" in town.text  # type: ignore[attr-defined]
    script = post_opinion(client, cid, "<script>alert(1)</script>公園が好き")
    assert script.status_code == 201  # type: ignore[attr-defined]
    assert "<script>alert(1)" not in client.get(f"/voice/{cid}").text
    forged = client.post(f"/voice/{cid}/opinions", data={"text": "CSRF なし", "csrf_token": "x"})
    assert forged.status_code == 403
    with db.session() as session:
        assert len(session.scalars(select(Opinion)).all()) == 1


def test_opinions_are_taken_only_during_the_period(
    client: TestClient, make_consultation: Callable[..., int]
) -> None:
    # A form left open in a tab while the period ended (or before it began) is refused.
    token = csrf_of(client.get(f"/voice/{make_consultation()}").text)
    closed = make_consultation("終わった募集", open_days=-1, started_days=30)
    assert "募集は終了しました" in client.get(f"/voice/{closed}").text
    answer = client.post(
        f"/voice/{closed}/opinions", data={"text": "遅れました", "csrf_token": token}
    )
    assert answer.status_code == 409
    assert "終了しました" in answer.text
    upcoming = make_consultation("これからの募集", open_days=30, started_days=-5)
    early = client.post(f"/voice/{upcoming}/opinions", data={"text": "早すぎ", "csrf_token": token})
    assert early.status_code == 409
    assert "まだ始まっていません" in early.text


def test_a_browser_supports_an_opinion_once(
    client: TestClient, app: object, db: Database, make_consultation: Callable[..., int]
) -> None:
    cid = make_consultation()
    post_opinion(client, cid, "公園に日陰を増やしてください。")
    with db.session() as session:
        opinion_id = session.scalars(select(Opinion.id)).one()
    for expected in (1, 1):
        page = client.get(f"/voice/{cid}")
        client.post(f"/voice/{cid}/opinions/{opinion_id}/support",
                    data={"csrf_token": csrf_of(page.text)})  # fmt: skip
        with db.session() as session:
            assert session.get(Opinion, opinion_id).supports == expected  # type: ignore[union-attr]
    assert "賛同しました" in client.get(f"/voice/{cid}").text
    with TestClient(app) as other:  # type: ignore[arg-type]
        page = other.get(f"/voice/{cid}")
        other.post(f"/voice/{cid}/opinions/{opinion_id}/support",
                   data={"csrf_token": csrf_of(page.text)})  # fmt: skip
    with db.session() as session:
        assert session.get(Opinion, opinion_id).supports == 2  # type: ignore[union-attr]


def test_a_flood_of_opinions_from_one_client_is_rate_limited(
    client: TestClient, db: Database, make_consultation: Callable[..., int]
) -> None:
    cid = make_consultation()
    answers = [post_opinion(client, cid, f"意見その{i}です。") for i in range(7)]
    codes = [a.status_code for a in answers]  # type: ignore[attr-defined]
    assert codes[:5] == [201] * 5
    assert codes[5:] == [429, 429]
    assert "リクエストが多すぎます" in answers[-1].text  # type: ignore[attr-defined]
    with db.session() as session:
        ids = list(session.scalars(select(Opinion.id)))
    assert len(ids) == 5
    # Supporting the opinions one reads is counted apart from posting them.
    token = csrf_of(client.get(f"/voice/{cid}").text)
    for opinion_id in ids:
        client.post(f"/voice/{cid}/opinions/{opinion_id}/support", data={"csrf_token": token})
    with db.session() as session:
        assert list(session.scalars(select(Opinion.supports))) == [1] * 5


def test_staff_open_a_consultation_with_a_pdf_and_a_link(client: TestClient, db: Database,
                                                         admin: User) -> None:  # fmt: skip
    login(client)
    form = client.get("/staff/voice/consultations")
    today = utcnow().date()
    fields = {
        "csrf_token": csrf_of(form.text), "title": "自転車駐車場の料金改定案",
        "description": "料金改定案への意見を募集します。",
        "opens_on": (today - timedelta(days=1)).isoformat(), "opens_at": "09:00",
        "closes_on": (today + timedelta(days=20)).isoformat(), "closes_at": "17:00",
        "file_title": "改定案（PDF）", "links": "市のお知らせ https://www.city.mitaka.lg.jp/",
    }  # fmt: skip
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    made = client.post("/staff/voice/consultations", data=fields,
                       files={"file": ("kaitei.pdf", pdf, "application/pdf")}, follow_redirects=False)  # fmt: skip
    assert made.status_code == 303, made.text
    with db.session() as session:
        consultation = session.scalars(select(Consultation)).one()
        cid = consultation.id
        assert [d.title for d in consultation.documents] == ["改定案(PDF)", "市のお知らせ"]
        doc_id = consultation.documents[0].id
    public = client.get(f"/voice/{cid}").text
    assert "自転車駐車場の料金改定案" in public
    assert "https://www.city.mitaka.lg.jp/" in public
    download = client.get(f"/voice/{cid}/documents/{doc_id}")
    assert download.status_code == 200
    assert download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    fake = client.post("/staff/voice/consultations", data={**fields, "title": "偽PDF"},
                       files={"file": ("evil.pdf", b"MZ\x90\x00program", "application/pdf")})  # fmt: skip
    assert fake.status_code == 422
    assert "ファイルの中身が .pdf ではありません" in fake.text
    backwards = client.post("/staff/voice/consultations",
                            data={**fields, "closes_on": (today - timedelta(days=3)).isoformat()})  # fmt: skip
    assert backwards.status_code == 422
    assert "終了は開始より後" in backwards.text
    with db.session() as session:
        assert len(session.scalars(select(Consultation)).all()) == 1


def test_residents_cannot_reach_staff_pages(client: TestClient, make_consultation: Callable[..., int]) -> None:  # fmt: skip
    for path in ("/staff/voice", "/staff/voice/moderation", "/staff/voice/import"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login")


def test_results_open_after_the_period_with_counts_ranking_topics_and_the_response(
    client: TestClient, db: Database, admin: User, make_consultation: Callable[..., int]
) -> None:
    cid = make_consultation()
    texts = [
        "公園のトイレが汚くて子どもが使えません。清掃を増やしてください。",
        "公園のトイレをきれいにしてほしい。汚いので困っています。",
        "図書館の本の予約が便利になって助かっています。",
        "図書館の予約システムが使いやすくなりました。ありがとうございます。",
        "連絡先は090-1234-5678です。公園の件でお話ししたい。",
    ]
    for written in texts:
        post_opinion(client, cid, written)
    with db.session() as session:
        first = session.scalars(select(Opinion).order_by(Opinion.id)).first()
        assert first is not None
        first.supports = 5
    assert client.get(f"/voice/{cid}/results").status_code == 409
    with db.session() as session:
        consultation = session.get(Consultation, cid)
        assert consultation is not None
        consultation.closes_at = utcnow() - timedelta(minutes=1)
    login(client)
    page = client.get(f"/staff/voice/consultations/{cid}")
    client.post(f"/staff/voice/consultations/{cid}/response",
                data={"response": "トイレの清掃を週3回に増やします。", "csrf_token": csrf_of(page.text)})  # fmt: skip
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    results = client.get(f"/voice/{cid}/results")
    assert results.status_code == 200
    html = results.text
    assert "寄せられたご意見: 5" in html
    assert "公開: 4" in html
    assert "トイレの清掃を週3回に増やします。" in html
    ranking = html.split('id="rank"', 1)[1].split("</ol>", 1)[0]
    assert ranking.index("公園のトイレが汚くて") < ranking.index("図書館")
    assert "肯定的" in html
    assert "否定的" in html
    topics = html.split("voice-topics", 1)[1]
    assert "トイレ" in topics
    assert "図書館" in topics
    assert "090-1234-5678" not in html
    # Results are remembered between views, but by what was published: hiding the library
    # opinions afterwards takes their topic off the page at once.
    with db.session() as session:
        staff = session.get(User, admin.id)
        assert staff is not None
        for opinion in session.scalars(select(Opinion).where(Opinion.text.contains("図書館"))):
            service.moderate(session, staff, opinion, "hide", "テスト: 取り下げの申出")
    again = client.get(f"/voice/{cid}/results").text
    assert "図書館" not in again.split("voice-topics", 1)[1]
    assert "トイレ" in again.split("voice-topics", 1)[1]
