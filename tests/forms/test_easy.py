"""Online forms in 日本語, English and やさしい日本語 on SQLite and PostgreSQL: every shipped
form has all three texts, the form page switches like the 手続きナビ checklist, a refused
field is told in the page's language, and staff add easy texts in the JSON editor (a missing
one falls back to Japanese and is listed for them)."""

from __future__ import annotations

import html as html_lib
import json

from fastapi.testclient import TestClient

from cityos.db import Database
from cityos.forms import service
from tests.conftest import csrf_of, login
from tests.forms.conftest import TENNYU, hidden, resident_with_profile

BAD = {"kana": "Hanako 花子", "moved_on": "令和0年4月1日", "my_number": "123456789010",
       "phone": "12345", "postcode": "000-0000", "card_use": ""}  # fmt: skip


def send(client: TestClient, query: str, changes: dict[str, str]) -> str:
    """The tennyu form opened and sent back in one language (``query``), with ``changes``."""
    page = client.get(f"/forms/tennyu-pre{query}").text
    data = {
        "csrf_token": csrf_of(page), "form_id": hidden(page, "form_id"),
        "idempotency_key": hidden(page, "idempotency_key"), "name": "三鷹 花子",
        "birth_date": "1985-04-01", "address": "東京都三鷹市下連雀3-22-14", **TENNYU, **changes,
    }  # fmt: skip
    answer = client.post(f"/forms/tennyu-pre{query}", data=data)
    assert answer.status_code == 422
    return answer.text


def test_every_shipped_form_has_english_and_easy_texts(db: Database) -> None:
    with db.session() as session:
        shipped = service.forms(session)
        assert len(shipped) == 3
        for found in shipped:
            assert service.missing_translations(found) == [], found.id
            assert found.title_easy
            assert found.intro_easy


def test_a_resident_switches_the_form_to_easy_japanese(client: TestClient) -> None:
    resident_with_profile(client)
    easy = client.get("/forms/tennyu-pre?easy=1").text
    assert "<h1>ひっこして きた ときの とどけ（くる まえに かく）</h1>" in easy
    assert "なまえ（カタカナ）" in easy
    assert "あたらしい 住所（じゅうしょ）の 郵便番号（ゆうびん ばんごう）" in easy
    assert "（かならず かく）" in easy
    assert "はい（マイナンバーカードで とどけます）" in easy
    assert 'aria-current="true">やさしい にほんご' in easy
    assert 'action="/forms/tennyu-pre?easy=1"' in easy
    english = client.get("/forms/tennyu-pre?lang=en").text
    assert "Name in katakana" in english
    assert 'aria-current="true">English' in english
    assert "フリガナ" not in english
    # The site header's English link keeps ?easy=1 and still leads to English.
    assert "Name in katakana" in client.get("/forms/tennyu-pre?easy=1&lang=en").text
    japanese = client.get("/forms/tennyu-pre?lang=ja").text
    assert "フリガナ" in japanese
    assert "なまえ（カタカナ）" not in japanese


def test_refused_fields_are_told_in_the_pages_language(client: TestClient) -> None:
    resident_with_profile(client)
    easy = send(client, "?easy=1", BAD)
    for message in (service.NOT_KANA, service.NOT_A_DATE, service.NOT_A_MY_NUMBER,
                    service.NOT_A_PHONE, service.NOT_A_POSTCODE, service.REQUIRED):  # fmt: skip
        assert html_lib.escape(message.easy, quote=False) in easy, message.easy
        assert message.ja not in easy
    assert "6この ところを なおして ください" in easy
    english = send(client, "?lang=en", BAD)
    assert "write it in katakana (or hiragana)" in english
    assert "カタカナ（またはひらがな）で入力してください" not in english
    japanese = send(client, "?lang=ja", {"kana": "Hanako"})
    assert "カタカナ（またはひらがな）で入力してください" in japanese
    assert "カタカナ か ひらがなで" not in japanese


def test_file_messages_come_in_easy_japanese(client: TestClient) -> None:
    resident_with_profile(client)
    page = client.get("/forms/jido-teate-nintei?easy=1").text
    assert "おかねを ふりこむ 口座（こうざ）の 通帳（つうちょう）の コピー" in page
    data = {
        "csrf_token": csrf_of(page), "form_id": hidden(page, "form_id"),
        "idempotency_key": hidden(page, "idempotency_key"),
    }  # fmt: skip
    files = {"bank_book": ("book.txt", b"just text", "text/plain")}
    answer = client.post("/forms/jido-teate-nintei?easy=1", data=data, files=files)
    assert answer.status_code == 422
    assert "PDF・JPEG・PNG の ファイルを えらんで ください" in answer.text
    big = {"bank_book": ("book.pdf", b"%PDF-" + b"0" * (3 * 1024 * 1024), "application/pdf")}
    answer = client.post("/forms/jido-teate-nintei?easy=1", data=data, files=big)
    assert "ファイルが おおきすぎます。3MB までの ファイルを えらんで ください" in answer.text


def test_staff_add_easy_texts_and_see_which_are_missing(
    client: TestClient, db: Database, admin: object
) -> None:
    login(client)
    url = "/staff/forms/definitions/juminhyo-request"
    page = client.get(url)
    assert "すべての項目に英語とやさしい日本語があります" in page.text
    written = page.text.split('class="code">', 1)[1].split("</textarea>", 1)[0]
    data = json.loads(html_lib.unescape(written))
    assert data["title_easy"] == "じゅうみんひょうを たのむ"
    purpose = data["fields"][7]
    purpose["label_easy"] = "つかう ところ"
    del data["fields"][1]["label_easy"]
    bad = json.loads(json.dumps(data))
    bad["fields"][0]["label_easy"] = 5
    refused = client.post(
        url, data={"definition": json.dumps(bad), "csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 422
    assert "fields[0]: label_easy は文字列です / label_easy must be text" in refused.text
    saved = client.post(
        url, data={"definition": json.dumps(data), "csrf_token": csrf_of(page.text)}
    )
    assert saved.status_code == 200
    assert "<code>kana.label_easy</code>" in saved.text
    resident_with_profile(client, "jiro@example.jp")
    easy = client.get("/forms/juminhyo-request?easy=1").text
    assert "つかう ところ" in easy
    assert ">フリガナ" in easy  # no easy text: the Japanese one


def test_the_forms_list_speaks_easy_japanese_and_keeps_it_in_its_links(
    client: TestClient,
) -> None:
    easy = client.get("/forms?easy=1").text
    assert "<h1>インターネットで もうしこむ</h1>" in easy
    assert "ひっこして きた ときの とどけ（くる まえに かく）" in easy
    assert 'href="/forms/tennyu-pre?easy=1"' in easy
    assert 'aria-current="true">やさしい にほんご' in easy
    english = client.get("/forms?lang=en").text
    assert "<h1>Online forms</h1>" in english
    assert 'href="/forms/tennyu-pre"' in english
