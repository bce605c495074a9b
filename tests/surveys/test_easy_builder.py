"""やさしい日本語 written by staff on SQLite and PostgreSQL, through real HTTP: the survey's
easy-Japanese title (new-survey form, builder settings), the builder's easy-Japanese fields
for a question's label, choices and scale ends, what a resident reads with ``?easy=1`` (and
the Japanese where nothing was written), the JSON editor and the builder keeping each other's
wording, and bad input refused next to its field with nothing saved."""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cityos.core.models import User
from cityos.db import Database
from cityos.surveys.models import Survey
from tests.conftest import csrf_of, login
from tests.surveys.conftest import QUESTIONS, create_survey, survey_form

EASY_TITLE = "こうえんの アンケート"


def textarea(page: str, field_id: str) -> str:
    """What a builder textarea shows (the saved or the typed text)."""
    return html.unescape(
        page.split(f'id="{field_id}"', 1)[1].split(">", 1)[1].split("</textarea>")[0]
    )


def input_value(page: str, field_id: str) -> str:
    return html.unescape(
        page.split(f'id="{field_id}"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    )


def question_form(page: str, qid: str) -> dict[str, str]:
    """The fields of one question's form in the builder, as a browser would send them back."""
    form = page.split(f'id="question-{qid}"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, str] = {}
    for name in ("label", "label_en", "label_easy", "min_label", "min_label_en",
                 "min_label_easy", "max_label", "max_label_en", "max_label_easy"):  # fmt: skip
        if f'id="{qid}-{name}"' in form:
            fields[name] = input_value(form, f"{qid}-{name}")
    for name in ("choices", "choices_en", "choices_easy"):
        if f'id="{qid}-{name}"' in form:
            fields[name] = textarea(form, f"{qid}-{name}")
    if 'name="required" value="1" checked' in form:
        fields["required"] = "1"
    assert " selected>" not in form  # these tests' questions have no condition
    return fields


def definition(page: str) -> list[dict[str, Any]]:
    """The questions the JSON editor shows."""
    return json.loads(textarea(page, "questions"))  # type: ignore[no-any-return]


def survey_count(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Survey)) or 0


def new_draft(client: TestClient, **fields: str) -> tuple[int, str]:
    """(survey id, builder path) of a draft made on the new-survey form."""
    page = client.get("/staff/surveys/new")
    made = client.post(
        "/staff/surveys/new",
        data={"title": "公園アンケート", "mode": "anonymous", "csrf_token": csrf_of(page.text),
              **fields},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303, made.text
    builder = made.headers["location"].split("?")[0]
    return int(builder.split("/")[3]), builder


def test_staff_build_in_easy_japanese_and_a_resident_reads_it(
    client: TestClient, admin: User, db: Database
) -> None:
    login(client)
    new = client.get("/staff/surveys/new").text
    assert '<label for="title_easy">題名（やさしい日本語）</label>' in new
    assert 'aria-describedby="title_easy-hint"' in new
    survey_id, builder = new_draft(client, title_en="Parks survey", title_easy=f"  {EASY_TITLE} ")
    page = client.get(builder).text
    assert input_value(page, "title_easy") == EASY_TITLE
    for field in ("label_easy", "choices_easy", "min_label_easy", "max_label_easy"):
        assert f'<label for="new-{field}">' in page
    assert 'aria-describedby="new-label_easy-hint"' in page
    assert "任意です。空欄のときは、やさしい日本語の画面にも日本語の質問文を出します。" in page
    token = csrf_of(page)
    steps: list[dict[str, str]] = [
        {"type": "single", "label": "公園をよく使いますか", "label_en": "Do you use the parks?",
         "label_easy": "こうえんに よく いきますか", "choices": "はい\nいいえ",
         "choices_en": "Yes\nNo", "choices_easy": "よく いく\nあまり いかない", "required": "1"},
        {"type": "scale", "label": "満足度", "min_label": "不満", "max_label": "満足",
         "min_label_easy": "いや", "max_label_easy": "とても よい"},
        {"type": "text", "label": "ご意見", "label_en": "", "label_easy": ""},
    ]  # fmt: skip
    for step in steps:
        added = client.post(
            f"/staff/surveys/{survey_id}/questions",
            data={**step, "csrf_token": token},
            follow_redirects=False,
        )
        assert added.status_code == 303, added.text
    with db.session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        assert survey.title_easy == EASY_TITLE
        assert survey.questions[0]["label_easy"] == "こうえんに よく いきますか"
        assert survey.questions[0]["choices_easy"] == ["よく いく", "あまり いかない"]
        assert survey.questions[1]["min_label_easy"] == "いや"
        assert "label_easy" not in survey.questions[2]  # empty: nothing stored
    published = client.post(
        f"/staff/surveys/{survey_id}/publish",
        data={"published": "1", "back": "edit", "csrf_token": token},
    )
    path = urlsplit(published.text.split('id="survey-url">', 1)[1].split("<", 1)[0]).path

    resident = TestClient(client.app)
    easy = resident.get(path + "?easy=1").text
    assert f"<title>{EASY_TITLE} |" in easy
    assert f"<h1>{EASY_TITLE}</h1>" in easy
    assert "1. こうえんに よく いきますか" in easy
    assert "> よく いく</label>" in easy
    assert "> あまり いかない</label>" in easy
    assert 'value="はい"' in easy  # the answer kept is still the Japanese choice
    assert "1 (いや)</label>" in easy
    assert "5 (とても よい)</label>" in easy
    assert "3. ご意見" in easy  # no easy wording: the Japanese
    japanese = resident.get(path).text
    assert "<h1>公園アンケート</h1>" in japanese
    assert "1. 公園をよく使いますか" in japanese
    assert "1 (不満)</label>" in japanese
    assert EASY_TITLE not in japanese
    assert "<h1>Parks survey</h1>" in TestClient(client.app).get(path + "?lang=en").text
    token = csrf_of(easy)
    thanks = resident.post(path + "?easy=1", data={"q1": "はい", "q2": "4", "csrf_token": token})
    assert thanks.status_code == 200, thanks.text
    assert f"「{EASY_TITLE}」に こたえて くれて" in thanks.text
    # The easy title changed later, in the builder's settings.
    settings = client.post(
        builder,
        data={"title": "公園アンケート", "title_en": "Parks survey", "title_easy": "こうえん",
              "mode": "anonymous", "csrf_token": csrf_of(client.get(builder).text)},
        follow_redirects=False,
    )  # fmt: skip
    assert settings.status_code == 303
    assert "<h1>こうえん</h1>" in resident.get(path + "?easy=1").text


def test_without_easy_wording_the_easy_page_shows_the_japanese(
    client: TestClient, admin: User
) -> None:
    login(client)
    _, url = create_survey(client, title_en="Parks survey")
    path = urlsplit(url).path
    easy = TestClient(client.app).get(path + "?easy=1").text
    assert "<title>公園の使い方アンケート |" in easy
    assert "<h1>公園の使い方アンケート</h1>" in easy
    assert "1. 公園をよく使いますか" in easy
    assert 'value="はい"> はい</label>' in easy
    assert "Parks survey" not in easy


def test_the_json_editor_and_the_builder_keep_each_others_easy_wording(
    client: TestClient, admin: User, db: Database
) -> None:
    login(client)
    worded: list[dict[str, Any]] = [
        {**QUESTIONS[0], "label_en": "Do you use the parks?",
         "label_easy": "こうえんに よく いきますか", "choices_en": ["Yes", "No"],
         "choices_easy": ["よく いく", "あまり いかない"]},
        {**QUESTIONS[2], "min_label": "不満", "min_label_easy": "いや", "max_label": "満足"},
        QUESTIONS[3],
    ]  # fmt: skip
    survey_id, _ = create_survey(
        client, publish=False, questions=json.dumps(worded, ensure_ascii=False),
        title_easy=EASY_TITLE,
    )  # fmt: skip
    builder = f"/staff/surveys/{survey_id}/edit"
    page = client.get(builder).text
    # What the JSON editor wrote is in the builder's fields.
    assert input_value(page, "q1-label_easy") == "こうえんに よく いきますか"
    assert textarea(page, "q1-choices_easy") == "よく いく\nあまり いかない"
    assert input_value(page, "q3-min_label_easy") == "いや"
    assert input_value(page, "q3-max_label_easy") == ""
    token = csrf_of(page)
    # Saved from the builder as shown, with only the English changed: nothing is lost.
    q1 = question_form(page, "q1")
    assert q1["label_easy"] == "こうえんに よく いきますか"
    saved = client.post(
        f"/staff/surveys/{survey_id}/questions/q1",
        data={**q1, "label_en": "Do you often use the parks?", "csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    # The builder adds easy wording to the scale's other end and to the free text.
    q3 = question_form(page, "q3")
    client.post(
        f"/staff/surveys/{survey_id}/questions/q3",
        data={**q3, "max_label_easy": "とても よい", "csrf_token": token},
    )
    q4 = question_form(page, "q4")
    client.post(
        f"/staff/surveys/{survey_id}/questions/q4",
        data={**q4, "label_easy": "あなたの かんがえ", "csrf_token": token},
    )
    expected = [
        {**worded[0], "label_en": "Do you often use the parks?", "required": True},
        {**worded[1], "max_label_easy": "とても よい", "required": True},
        {**worded[2], "label_easy": "あなたの かんがえ", "required": False},
    ]
    with db.session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        assert survey.questions == expected
    # The JSON editor shows the builder's wording, and saving it as shown keeps everything,
    # the easy title too (the JSON editor has no field for it).
    editor = client.get(f"/staff/surveys/{survey_id}").text
    shown = definition(editor)
    assert shown == expected
    resaved = client.post(
        f"/staff/surveys/{survey_id}",
        data=survey_form(
            client, f"/staff/surveys/{survey_id}", title=input_value(editor, "title"),
            description=textarea(editor, "description"),
            questions=json.dumps(shown, ensure_ascii=False),
        ),
        follow_redirects=False,
    )  # fmt: skip
    assert resaved.status_code == 303, resaved.text
    with db.session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        assert survey.questions == expected
        assert survey.title_easy == EASY_TITLE
    page = client.get(builder).text
    assert input_value(page, "q4-label_easy") == "あなたの かんがえ"
    assert input_value(page, "title_easy") == EASY_TITLE
    # Emptying a field in the builder is what staff meant: that wording goes.
    q1 = question_form(page, "q1")
    cleared = client.post(
        f"/staff/surveys/{survey_id}/questions/q1",
        data={**q1, "label_easy": "", "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert cleared.status_code == 303
    with db.session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        assert "label_easy" not in survey.questions[0]
        assert survey.questions[0]["choices_easy"] == ["よく いく", "あまり いかない"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("あ" * 201, "やさしい日本語の題名は200字以内です"),
        ("こうえん\x00の アンケート", "やさしい日本語の題名: 使えない制御文字が含まれています"),
        ("こうえん\x07", "やさしい日本語の題名: 使えない制御文字が含まれています"),
    ],
)
def test_a_bad_easy_title_is_refused_next_to_its_field(
    client: TestClient, admin: User, db: Database, value: str, message: str
) -> None:
    login(client)
    before = survey_count(db)
    refused = client.post(
        "/staff/surveys/new",
        data={"title": "公園アンケート", "title_easy": value, "mode": "anonymous",
              "csrf_token": csrf_of(client.get("/staff/surveys/new").text)},
        follow_redirects=False,
    )  # fmt: skip
    assert refused.status_code == 422
    error = refused.text.split('id="title_easy-error">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert 'aria-describedby="title_easy-hint title_easy-error" aria-invalid="true"' in (
        refused.text
    )
    assert survey_count(db) == before
    # The same in the builder's settings: the saved title stays.
    survey_id, builder = new_draft(client, title_easy="こうえん")
    changed = client.post(
        builder,
        data={"title": "公園のアンケート", "title_easy": value, "mode": "anonymous",
              "csrf_token": csrf_of(client.get(builder).text)},
    )  # fmt: skip
    assert changed.status_code == 422
    assert message in changed.text.split('id="title_easy-error">', 1)[1]
    with db.session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        assert (survey.title, survey.title_easy) == ("公園アンケート", "こうえん")


def test_bad_easy_wording_in_the_builder_is_refused_next_to_its_field(
    client: TestClient, admin: User, db: Database
) -> None:
    login(client)
    survey_id, builder = new_draft(client)
    token = csrf_of(client.get(builder).text)
    base = {"type": "single", "label": "公園をよく使いますか", "choices": "はい\nいいえ"}
    uneven = client.post(
        f"/staff/surveys/{survey_id}/questions",
        data={**base, "choices_easy": "よく いく", "csrf_token": token},
    )
    assert uneven.status_code == 422
    error = uneven.text.split('id="new-choices_easy-error">', 1)[1].split("</p>", 1)[0]
    assert "やさしい日本語の選択肢は日本語と同じ数だけ" in error
    assert "よく いく</textarea>" in uneven.text  # what was typed comes back
    control = client.post(
        f"/staff/surveys/{survey_id}/questions",
        data={**base, "label_easy": "こうえん\x00", "csrf_token": token},
    )
    assert control.status_code == 422
    assert "使えない制御文字" in control.text.split('id="new-label_easy-error">', 1)[1]
    scale = client.post(
        f"/staff/surveys/{survey_id}/questions",
        data={"type": "scale", "label": "満足度", "max_label_easy": "よい\x1b",
              "csrf_token": token},
    )  # fmt: skip
    assert scale.status_code == 422
    assert "使えない制御文字" in scale.text.split('id="new-max_label_easy-error">', 1)[1]
    # Nor in the JSON editor.
    wrong = [{**QUESTIONS[0], "label_easy": "こうえん\x00"}]
    editor = client.post(
        "/staff/surveys/new",
        data=survey_form(client, questions=json.dumps(wrong, ensure_ascii=False)),
    )
    assert editor.status_code == 422
    assert "label_easy: 使えない制御文字が含まれています" in editor.text
    with db.session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        assert survey.questions == []
