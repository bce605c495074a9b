"""The chat page without JavaScript, and the staff's pages: edit, import, synonyms, log."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.chatbot.models import AskedQuestion, FaqRow
from cityos.core.models import AuditEntry, User
from cityos.db import Database
from tests.chatbot.conftest import wait_for_index
from tests.conftest import csrf_of, login


def test_the_chat_page_answers_and_hands_off_without_javascript(
    client: TestClient, faq_db: Database
) -> None:
    page = client.get("/chatbot")
    assert page.status_code == 200
    assert "AIチャットで質問" in page.text
    token = csrf_of(page.text)
    answered = client.post("/chatbot", data={"question": "住民票 どこ", "csrf_token": token})
    assert "住民票の写しは市役所市民課の窓口" in answered.text
    assert "市民課" in answered.text
    assert "役に立ちましたか" in answered.text
    declined = client.post("/chatbot", data={"question": "明日の天気は？", "csrf_token": token})
    assert "お答えできませんでした" in declined.text
    assert "職員に質問を送る" in declined.text
    empty = client.post("/chatbot", data={"question": " ", "csrf_token": token})
    assert empty.status_code == 422
    assert "質問を入力してください" in empty.text
    html = client.post("/chatbot", data={"question": "<b>ごみ</b>", "csrf_token": token})
    assert "<b>ごみ</b>" not in html.text
    assert "&lt;b&gt;ごみ&lt;/b&gt;" in html.text
    forged = client.post("/chatbot", data={"question": "ごみ", "csrf_token": "x"})
    assert forged.status_code == 403


def test_a_suggestion_link_shows_that_entry(client: TestClient, faq_db: Database) -> None:
    page = client.get("/chatbot?faq=T006")
    assert "児童手当は偶数月" in page.text


def test_staff_pages_need_a_login(client: TestClient, faq_db: Database) -> None:
    response = client.get("/staff/chatbot", follow_redirects=False)
    assert response.status_code == 303
    assert "/login" in response.headers["location"]


def test_staff_make_an_entry_from_an_unanswered_question_in_two_clicks(
    client: TestClient, faq_db: Database, admin: User
) -> None:
    token = csrf_of(client.get("/chatbot").text)
    client.post("/chatbot", data={"question": "図書館の本を返したい", "csrf_token": token})
    login(client)
    log = client.get("/staff/chatbot/log")
    assert "図書館の本を返したい" in log.text
    with faq_db.session() as session:
        log_id = session.scalars(select(AskedQuestion.id)).one()
    # Click 1: 「回答を作成」 opens the form with the question filled in.
    form = client.get(f"/staff/chatbot/new?from_log={log_id}")
    assert "図書館の本を返したい</textarea>" in form.text
    # Click 2: write the answer and save.
    saved = client.post(
        "/staff/chatbot/new",
        data={
            "csrf_token": csrf_of(form.text),
            "from_log": str(log_id),
            "question": "図書館の本を返したい",
            "answer": "返却ポストに入れてください。",
            "department": "図書館",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with faq_db.session() as session:
        row = session.scalars(select(FaqRow).where(FaqRow.source == "staff")).one()
        assert row.answer == "返却ポストに入れてください。"
        assert session.get(AskedQuestion, log_id).state == "done"  # type: ignore[union-attr]
        assert session.scalars(
            select(AuditEntry).where(AuditEntry.action == "chatbot.entry_create")
        ).one()
    wait_for_index(client, entries=13)
    answer = client.post("/api/chatbot/ask", json={"question": "図書館の本を返す"}).json()
    assert answer["faq_id"] == row.faq_id


def test_staff_edit_refuses_bad_fields_next_to_them(
    client: TestClient, faq_db: Database, admin: User
) -> None:
    login(client)
    page = client.get("/staff/chatbot/entries/T001")
    assert "粗大ごみを出したい" in page.text
    refused = client.post(
        "/staff/chatbot/entries/T001",
        data={"csrf_token": csrf_of(page.text), "question": "", "answer": "x", "url": "ftp://a"},
    )
    assert refused.status_code == 422
    assert 'id="question-error"' in refused.text
    assert "質問を書いてください" in refused.text
    assert 'id="url-error"' in refused.text
    changed = client.post(
        "/staff/chatbot/entries/T001",
        data={
            "csrf_token": csrf_of(page.text),
            "question": "粗大ごみの出し方",
            "answer": "新しい回答です。",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    wait_for_index(client)
    body = client.post("/api/chatbot/ask", json={"question": "粗大ごみの出し方"}).json()
    assert body["answer"] == "新しい回答です。"  # the index was rebuilt


def test_staff_import_shows_the_columns_and_unreadable_rows(
    client: TestClient, faq_db: Database, admin: User
) -> None:
    login(client)
    page = client.get("/staff/chatbot/import")
    data = "問い,答え,担当部署\n公園でボール遊びできる？,できる公園があります。,緑と公園課\n空の答え,,\n"
    result = client.post(
        "/staff/chatbot/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("faq.csv", data.encode("cp932"), "text/csv")},
    )
    assert result.status_code == 200
    assert "「問い」" in result.text
    assert "「担当部署」" in result.text
    assert "3行目" in result.text
    assert "回答が空です" in result.text
    assert "行番号を使います" in result.text
    assert "HTML の項目" not in result.text
    exported = "質問,回答\nごみの日は？,<p>週2回です。</p><p>地域で違います。</p>\n"
    html = client.post(
        "/staff/chatbot/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("faq.csv", exported.encode(), "text/csv")},
    )
    assert "HTML の項目 1 件を文章として読みました" in html.text
    bad = client.post(
        "/staff/chatbot/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")},
    )
    assert bad.status_code == 422
    assert "質問と回答の列が見つかりません" in bad.text


def test_staff_synonyms_are_used_from_the_next_question(
    client: TestClient, faq_db: Database, admin: User
) -> None:
    before = client.post("/api/chatbot/ask", json={"question": "わんこの登録"}).json()
    login(client)
    page = client.get("/staff/chatbot/synonyms")
    assert "粗大ごみ, 大型ごみ" in page.text
    text = page.text.split('name="synonyms"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    import html

    table = html.unescape(text) + "\n犬, ワンちゃん, わんこ"
    bad = client.post(
        "/staff/chatbot/synonyms", data={"csrf_token": csrf_of(page.text), "synonyms": "ひとつだけ"}
    )
    assert bad.status_code == 422
    assert "2語以上" in bad.text
    saved = client.post(
        "/staff/chatbot/synonyms",
        data={"csrf_token": csrf_of(page.text), "synonyms": table},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    wait_for_index(client)
    after = client.post("/api/chatbot/ask", json={"question": "わんこの登録"}).json()
    assert after["faq_id"] == "T010"
    assert after["confidence"] > before["confidence"]
