"""Surveys through the real pages on SQLite and PostgreSQL: staff build, publish and tally;
residents answer from the URL; bad answers are refused next to their question and nothing
is kept; one-response-per-resident surveys refuse a second response."""

from __future__ import annotations

import io
import json
from urllib.parse import urlsplit

import segno
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from cityos.core.models import User
from cityos.db import Database
from cityos.surveys.models import SurveyResponse
from cityos.voice.models import VoiceText
from tests.conftest import csrf_of, login
from tests.residents.conftest import sign_up
from tests.surveys.conftest import answer, create_survey, survey_form

GOOD = {"q1": "はい", "q2": ["散歩", "遊び"], "q3": "4", "q4": "ベンチを増やしてほしい"}


def responses(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(SurveyResponse)) or 0


def test_staff_publish_a_survey_with_a_qr_code_of_its_url(client: TestClient, admin: User) -> None:
    login(client)
    survey_id, url = create_survey(client)
    path = urlsplit(url).path
    assert path.startswith("/surveys/")
    svg = client.get(f"/staff/surveys/{survey_id}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert url in svg.text  # the SVG's title names the address it encodes
    png = client.get(f"/staff/surveys/{survey_id}/qr.png")
    assert png.content.startswith(b"\x89PNG")
    # The PNG's modules are exactly segno's QR code of the URL (8 px a module, 4 of border).
    expected = segno.make(url, error="m", micro=False)
    image = Image.open(io.BytesIO(png.content)).convert("L")
    width, height = expected.symbol_size(scale=1, border=4)
    assert image.size == (width * 8, height * 8)
    for row, line in enumerate(expected.matrix):
        for col, dark in enumerate(line):
            pixel = image.getpixel(((col + 4) * 8 + 4, (row + 4) * 8 + 4))
            assert (pixel == 0) == bool(dark), (row, col)
    # The answer page opens from that URL without any login.
    anonymous = TestClient(client.app)
    page = anonymous.get(path)
    assert page.status_code == 200
    assert "公園をよく使いますか" in page.text


def test_an_answer_changes_the_tally_and_the_csv(
    client: TestClient, admin: User, db: Database
) -> None:
    login(client)
    survey_id, path = create_survey(client)
    resident = TestClient(client.app)
    done = answer(resident, path, GOOD)
    assert done.status_code == 200
    assert "回答を受け付けました" in done.text
    answer(resident, path, {"q1": "いいえ", "q3": "2"})
    results = client.get(f"/staff/surveys/{survey_id}/results")
    assert "回答数: <strong>2</strong>" in results.text
    assert "<svg" in results.text
    assert "はい 1、いいえ 1" in results.text
    assert "平均 3.0" in results.text
    sheet = client.get(f"/staff/surveys/{survey_id}/results.csv")
    rows = sheet.content.decode("utf-8-sig").splitlines()
    assert rows[0] == "response_id,submitted_at,q1,q2,q3,q4"
    assert "散歩 | 遊び" in rows[2]
    assert "ベンチを増やしてほしい" in rows[2]
    assert len(rows) == 4


def test_bad_answers_are_refused_next_to_the_question_and_nothing_is_kept(
    client: TestClient, admin: User, db: Database
) -> None:
    login(client)
    _, path = create_survey(client)
    resident = TestClient(client.app)
    missing = answer(resident, path, {"q1": "はい", "q3": "3"})
    assert missing.status_code == 422
    assert 'id="q2-error"' in missing.text
    assert "回答が必要です" in missing.text
    out_of_range = answer(resident, path, {**GOOD, "q3": "9"})
    assert out_of_range.status_code == 422
    assert "1〜5 の数で答えてください" in out_of_range.text
    hidden = answer(resident, path, {"q1": "いいえ", "q2": "散歩", "q3": "3"})
    assert hidden.status_code == 422
    assert 'id="q2-error"' in hidden.text
    assert "対象外" in hidden.text
    not_offered = answer(resident, path, {**GOOD, "q1": "たぶん"})
    assert not_offered.status_code == 422
    assert "選択肢から1つ選んでください" in not_offered.text
    # What the resident typed is still there to correct.
    assert "ベンチを増やしてほしい" in not_offered.text
    assert responses(db) == 0


def test_a_bad_definition_is_refused_with_the_reason(
    client: TestClient, admin: User, db: Database
) -> None:
    login(client)
    cases = {
        "not json": "JSONとして読めません",
        json.dumps([{"id": "q1", "type": "scale", "label": "満足度", "min": 5, "max": 1}]): "min と max は 0〜10 の整数",
        json.dumps([
            {"id": "q1", "type": "text", "label": "A",
             "show_if": {"question": "q2", "equals": ["はい"]}},
            {"id": "q2", "type": "single", "label": "B", "choices": ["はい", "いいえ"]},
        ]): "earlier choice question",
        json.dumps([{"id": "q1", "type": "single", "label": "A", "choices": ["x"]}]): "2 to 30",
    }  # fmt: skip
    for definition, reason in cases.items():
        page = client.post("/staff/surveys/new", data=survey_form(client, questions=definition))
        assert page.status_code == 422, definition
        assert reason in page.text, definition
        assert 'id="questions-error"' in page.text
    late = client.post(
        "/staff/surveys/new",
        data=survey_form(client, opens_at="2026-12-02T09:00", closes_at="2026-12-01T09:00"),
    )
    assert late.status_code == 422
    assert "終了は開始より後" in late.text
    assert "公園の使い方アンケート" not in client.get("/staff/surveys").text


def test_one_response_per_resident(client: TestClient, admin: User, db: Database) -> None:
    login(client)
    _, path = create_survey(client, mode="resident")
    stranger = TestClient(client.app)
    page = stranger.get(path)
    assert "ログインして回答する" in page.text
    # A crafted post without logging in is refused too (the token of another form is valid).
    token = csrf_of(stranger.get("/residents/login").text)
    refused = stranger.post(path, data={**GOOD, "csrf_token": token})
    assert refused.status_code == 403
    assert "ログイン" in refused.text
    resident = TestClient(client.app)
    sign_up(resident, "taro@example.jp")
    token = csrf_of(resident.get(path).text)
    assert resident.post(path, data={**GOOD, "csrf_token": token}).status_code == 200
    assert "すでに回答しています" in resident.get(path).text
    twice = resident.post(path, data={**GOOD, "csrf_token": token})
    assert twice.status_code == 409
    assert "1人1回" in twice.text
    assert responses(db) == 1
    kept = resident.get("/my/export.json").json()["survey_responses"]
    assert kept[0]["survey"] == "公園の使い方アンケート"
    assert kept[0]["answers"]["q3"] == 4


def test_closed_and_draft_surveys_take_no_answers(
    client: TestClient, admin: User, db: Database
) -> None:
    login(client)
    _, path = create_survey(client, opens_at="2020-01-01T09:00", closes_at="2020-02-01T09:00")
    resident = TestClient(client.app)
    page = resident.get(path)
    assert "終了しました" in page.text
    token = csrf_of(resident.get("/residents/login").text)
    late = resident.post(path, data={**GOOD, "csrf_token": token})
    assert late.status_code == 403
    draft_id, _ = create_survey(client, publish=False)
    with db.session() as session:
        from cityos.surveys.models import Survey

        slug = session.get(Survey, draft_id).slug  # type: ignore[union-attr]
    assert resident.get(f"/surveys/{slug}").status_code == 404
    assert responses(db) == 0


def test_free_texts_go_to_the_voice_analysis_once(
    client: TestClient, admin: User, db: Database
) -> None:
    login(client)
    survey_id, path = create_survey(client)
    resident = TestClient(client.app)
    answer(resident, path, GOOD)
    answer(resident, path, {**GOOD, "q4": "遊具が古くて危ない"})
    results = client.get(f"/staff/surveys/{survey_id}/results")
    for _ in range(2):  # sending again replaces, never doubles
        sent = client.post(
            f"/staff/surveys/{survey_id}/voice", data={"csrf_token": csrf_of(results.text)}
        )
        assert "2 件を市民の声の分析に送りました" in sent.text
    with db.session() as session:
        texts = session.scalars(select(VoiceText).where(VoiceText.source == "survey")).all()
        assert sorted(t.text for t in texts) == ["ベンチを増やしてほしい", "遊具が古くて危ない"]
        assert all(t.sentiment for t in texts)


def test_staff_pages_need_the_permission(client: TestClient, db: Database) -> None:
    from cityos.core import auth

    with db.session() as session:
        auth.create_user(session, "ana", "analyst", "analyst-password-1")
    login(client, "ana", "analyst-password-1")
    assert client.get("/staff/surveys").status_code == 403
    assert client.get("/staff/notices").status_code == 403
