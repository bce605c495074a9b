"""The answer page in 日本語, English and やさしい日本語: the switch, the fixed texts, the
survey's own wording (Japanese where staff wrote none), and errors told in the chosen mode."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from cityos.core.models import User
from cityos.db import Database
from tests.conftest import csrf_of, login
from tests.residents.conftest import sign_up
from tests.surveys.conftest import QUESTIONS, create_survey, survey_form

GOOD = {"q1": "はい", "q2": ["散歩", "遊び"], "q3": "4", "q4": "ベンチを増やしてほしい"}
WORDED: list[dict[str, Any]] = [
    {**QUESTIONS[0], "label_en": "Do you often use the parks?",
     "label_easy": "こうえんに よく いきますか", "choices_en": ["Yes", "No"],
     "choices_easy": ["よく いく", "あまり いかない"]},
    *QUESTIONS[1:],
]  # fmt: skip


def current_mode(page: str) -> str:
    """The link of the language switch marked as the page's current one."""
    switch = page.split('<nav class="switch', 1)[1].split("</nav>", 1)[0]
    marked = re.findall(r'aria-current="true">([^<]+)</a>', switch)
    assert len(marked) == 1, switch
    return marked[0]


def field_error(page: str, qid: str) -> str:
    return page.split(f'id="{qid}-error">', 1)[1].split("</p>", 1)[0]


def published(client: TestClient, **fields: Any) -> str:
    return published_with_id(client, **fields)[1]


def published_with_id(client: TestClient, **fields: Any) -> tuple[int, str]:
    login(client)
    questions = json.dumps(WORDED, ensure_ascii=False)
    survey_id, url = create_survey(client, questions=questions, **fields)
    return survey_id, urlsplit(url).path


def test_the_switch_shows_the_survey_in_each_mode(client: TestClient, admin: User) -> None:
    path = published(client, title_en="How do you use the parks?")

    japanese = TestClient(client.app).get(path).text
    assert current_mode(japanese) == "日本語"
    assert "回答を送る" in japanese
    assert "（必須）" in japanese
    assert "公園をよく使いますか" in japanese

    easy = TestClient(client.app).get(path + "?easy=1").text
    assert current_mode(easy) == "やさしい にほんご"
    assert "回答（かいとう）を おくる" in easy
    assert "（かならず こたえる）" in easy
    assert "＊が ある しつもんには かならず こたえて ください。" in easy
    assert "回答を送る" not in easy
    # Staff wrote easy wording for the first question: its label and choices.
    assert "1. こうえんに よく いきますか" in easy
    assert "> よく いく</label>" in easy
    assert 'value="はい"' in easy  # what is stored is still the Japanese choice
    # None for the others, nor for the title: those stay in Japanese.
    assert "何に使いますか" in easy
    assert "<h1>公園の使い方アンケート</h1>" in easy
    assert f'action="{path}?easy=1" class="panel"' in easy

    english = TestClient(client.app).get(path + "?lang=en").text
    assert current_mode(english) == "English"
    assert "Send the answers" in english
    assert "(required)" in english
    assert "<h1>How do you use the parks?</h1>" in english
    assert "1. Do you often use the parks?" in english
    assert "?easy=1" not in english.split("<form", 1)[1].split(">", 1)[0]


def test_errors_come_back_in_easy_japanese(client: TestClient, admin: User) -> None:
    path = published(client)
    resident = TestClient(client.app)
    token = csrf_of(resident.get(path + "?easy=1").text)
    missing = resident.post(
        path + "?easy=1",
        data={"q1": "はい", "q2": ["散歩"], "q4": "木陰がほしい", "csrf_token": token},
    )
    assert missing.status_code == 422
    assert field_error(missing.text, "q3") == "この しつもんには かならず こたえて ください"
    assert "1この こたえを もういちど みて ください" in missing.text
    assert "回答が必要です" not in missing.text
    assert current_mode(missing.text) == "やさしい にほんご"
    assert (
        f'action="{path}?easy=1" class="panel"' in missing.text
    )  # the next try stays in easy Japanese
    assert "木陰がほしい" in missing.text
    out_of_range = resident.post(path + "?easy=1", data={**GOOD, "q3": "9", "csrf_token": token})
    assert field_error(out_of_range.text, "q3") == "1 から 5 までの かずで こたえて ください"
    # The same mistake in Japanese and in English.
    japanese = resident.post(path, data={**GOOD, "q3": "", "csrf_token": token})
    assert field_error(japanese.text, "q3") == "この質問は回答が必要です"
    english = resident.post(path + "?lang=en", data={**GOOD, "q3": "", "csrf_token": token})
    assert field_error(english.text, "q3") == "this question needs an answer"

    thanks = TestClient(client.app)
    token = csrf_of(thanks.get(path + "?easy=1").text)
    done = thanks.post(path + "?easy=1", data={**GOOD, "csrf_token": token})
    assert done.status_code == 200
    assert "<h1>回答（かいとう）を うけとりました</h1>" in done.text
    assert "」に こたえて くれて、ありがとう ございました。" in done.text
    assert current_mode(done.text) == "やさしい にほんご"


def test_closed_and_answered_surveys_are_told_in_easy_japanese(
    client: TestClient, admin: User, db: Database
) -> None:
    closed = published(client, opens_at="2020-01-01T09:00", closes_at="2020-02-01T09:00")
    resident = TestClient(client.app)
    page = resident.get(closed + "?easy=1").text
    assert "この アンケートは おわりました。ありがとう ございました。" in page
    assert "<form method" not in page.split("</nav>", 2)[-1]
    token = csrf_of(resident.get("/residents/login").text)
    late = resident.post(closed + "?easy=1", data={**GOOD, "csrf_token": token})
    assert late.status_code == 403
    assert "この アンケートは おわりました。もう こたえる ことが できません" in late.text

    once = published(client, mode="resident")
    stranger = TestClient(client.app).get(once + "?easy=1").text
    assert "ログインして こたえる" in stranger
    taro = TestClient(client.app)
    sign_up(taro, "taro@example.jp")
    token = csrf_of(taro.get(once + "?easy=1").text)
    assert taro.post(once + "?easy=1", data={**GOOD, "csrf_token": token}).status_code == 200
    again = taro.get(once + "?easy=1").text
    assert "あなたは もう この アンケートに こたえました。ありがとう ございました。" in again
    twice = taro.post(once + "?easy=1", data={**GOOD, "csrf_token": token})
    assert twice.status_code == 409
    assert "あなたは もう この アンケートに こたえました。1人 1かい だけ です" in twice.text


def test_easy_choices_need_one_text_per_choice(client: TestClient, admin: User) -> None:
    login(client)
    wrong = [{**QUESTIONS[0], "choices_easy": ["よく いく"]}]
    page = client.post(
        "/staff/surveys/new",
        data=survey_form(client, questions=json.dumps(wrong, ensure_ascii=False)),
    )
    assert page.status_code == 422
    assert "choices_easy は choices と同じ数のやさしい日本語の選択肢です" in page.text


def test_the_builder_keeps_easy_wording_while_the_japanese_is_unchanged(
    client: TestClient, admin: User, db: Database
) -> None:
    survey_id, path = published_with_id(client)
    builder = f"/staff/surveys/{survey_id}/edit"
    fields = {
        "type": "single", "label": "公園をよく使いますか", "label_en": "Parks?",
        "required": "1", "choices": "はい\nいいえ", "choices_en": "Yes\nNo",
    }  # fmt: skip
    token = csrf_of(client.get(builder).text)
    saved = client.post(
        f"/staff/surveys/{survey_id}/questions/q1", data={**fields, "csrf_token": token}
    )
    assert saved.status_code == 200, saved.text
    easy = TestClient(client.app).get(path + "?easy=1").text
    assert "1. こうえんに よく いきますか" in easy
    assert "> よく いく</label>" in easy
    # A new Japanese question: its old easy wording no longer fits and goes; the unchanged
    # choices keep theirs.
    client.post(
        f"/staff/surveys/{survey_id}/questions/q1",
        data={**fields, "label": "公園に行きますか", "csrf_token": token},
    )
    easy = TestClient(client.app).get(path + "?easy=1").text
    assert "1. 公園に行きますか" in easy
    assert "> よく いく</label>" in easy
