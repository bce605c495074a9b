"""The point-and-click survey builder on SQLite and PostgreSQL: the checks of each step in
the service (no question text, too few choices, a condition on a later or deleted question,
structural changes once answers have arrived) and the staff pages through real HTTP (CSRF,
the survey permission, messages next to the field, the audit log, preview and publishing)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.core.errors import ValidationProblem
from cityos.core.models import AuditEntry, User
from cityos.db import Database
from cityos.surveys import service
from cityos.surveys.models import Survey
from tests.conftest import csrf_of, login
from tests.surveys.conftest import answer

PARKS = service.QuestionInput(type="single", label="公園をよく使いますか", choices="はい\nいいえ")


def draft(db: Database, admin: User) -> int:
    with db.session() as session:
        user = session.get(User, admin.id)
        assert user is not None
        given = service.SurveyInput(title="公園アンケート", questions=None)
        return service.create_survey(session, user, given).id


def build(db: Database, admin: User, *steps: service.QuestionInput) -> int:
    survey_id = draft(db, admin)
    with db.session() as session:
        user, survey = session.get(User, admin.id), session.get(Survey, survey_id)
        assert user is not None
        assert survey is not None
        for step in steps:
            service.add_question(session, user, survey, step)
    return survey_id


def refused(db: Database, admin: User, survey_id: int, change: str, *args: object) -> dict:
    """The errors of a refused builder step; nothing of it is kept."""
    with db.session() as session:
        user, survey = session.get(User, admin.id), session.get(Survey, survey_id)
        before = list(survey.questions)  # type: ignore[union-attr]
        with pytest.raises(ValidationProblem) as caught:
            getattr(service, change)(session, user, survey, *args)
        session.rollback()
        assert session.get(Survey, survey_id).questions == before  # type: ignore[union-attr]
    return caught.value.errors


def test_each_step_is_checked_next_to_its_field(db: Database, admin: User) -> None:
    survey_id = build(db, admin, PARKS)
    no_text = service.QuestionInput(type="text", label="  ")
    assert (
        "質問文を入力してください"
        in refused(db, admin, survey_id, "add_question", no_text)["label"][0]
    )
    one_choice = service.QuestionInput(type="multiple", label="何に使いますか", choices="散歩")
    assert "2〜30個" in refused(db, admin, survey_id, "add_question", one_choice)["choices"][0]
    uneven = service.QuestionInput(
        type="single", label="A", choices="はい\nいいえ", choices_en="Yes"
    )
    assert "同じ数" in refused(db, admin, survey_id, "add_question", uneven)["choices_en"][0]
    # A condition can only name an earlier choice question and one of its answers.
    for condition in ("q9:0", "q1:5", "q1"):
        wrong = service.QuestionInput(type="text", label="ご意見", condition=condition)
        assert (
            "前にある選択式の質問"
            in refused(db, admin, survey_id, "add_question", wrong)["condition"][0]
        )


def test_conditions_follow_reordering_and_deleting(db: Database, admin: User) -> None:
    follow_up = service.QuestionInput(
        type="multiple", label="何に使いますか", choices="散歩\n遊び", condition="q1:0",
        required=True,
    )  # fmt: skip
    survey_id = build(db, admin, PARKS, follow_up)
    with db.session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        assert [q["id"] for q in survey.questions] == ["q1", "q2"]
        assert survey.questions[1]["show_if"] == {"question": "q1", "equals": ["はい"]}
    # Moving the conditional question above the one it depends on would point forward.
    errors = refused(db, admin, survey_id, "move_question", "q2", -1)
    assert "そこへは動かせません" in errors["question-q2"][0]
    # Deleting the question another one depends on is refused with the reason.
    errors = refused(db, admin, survey_id, "delete_question", "q1")
    assert "質問 2 の条件がこの質問を使っている" in errors["question-q1"][0]
    with db.session() as session:
        user, survey = session.get(User, admin.id), session.get(Survey, survey_id)
        assert user is not None
        assert survey is not None
        unconditional = service.QuestionInput(label="何に使いますか", choices="散歩\n遊び")
        service.edit_question(session, user, survey, "q2", unconditional)
        service.move_question(session, user, survey, "q2", -1)
        assert [q["id"] for q in survey.questions] == ["q2", "q1"]
        service.delete_question(session, user, survey, "q2")
        assert [q["id"] for q in survey.questions] == ["q1"]
        assert service.add_question(session, user, survey, PARKS) == "q2"


def test_once_answered_only_the_wording_may_change(
    client: TestClient, db: Database, admin: User
) -> None:
    survey_id = build(db, admin, PARKS, service.QuestionInput(type="text", label="ご意見"))
    with db.session() as session:
        user, survey = session.get(User, admin.id), session.get(Survey, survey_id)
        service.set_published(session, user, survey, True)  # type: ignore[arg-type]
        slug = survey.slug  # type: ignore[union-attr]
    assert answer(TestClient(client.app), f"/surveys/{slug}", {"q1": "はい"}).status_code == 200
    locked = "回答が集まった後は"
    other_choices = service.QuestionInput(label="公園をよく使いますか", choices="はい\nたまに")
    assert (
        locked
        in refused(db, admin, survey_id, "edit_question", "q1", other_choices)["question-q1"][0]
    )
    assert locked in refused(db, admin, survey_id, "add_question", PARKS)["add"][0]
    assert locked in refused(db, admin, survey_id, "delete_question", "q2")["question-q2"][0]
    assert locked in refused(db, admin, survey_id, "move_question", "q2", -1)["question-q2"][0]
    with db.session() as session:
        user, survey = session.get(User, admin.id), session.get(Survey, survey_id)
        assert user is not None
        assert survey is not None
        fixed = service.QuestionInput(
            label="公園をよく利用しますか", label_en="Do you use the parks?",
            choices="はい\nいいえ", choices_en="Yes\nNo",
        )  # fmt: skip
        service.edit_question(session, user, survey, "q1", fixed)
        total, tallies = service.tally(session, survey)
    assert total == 1
    assert tallies[0].question["label"] == "公園をよく利用しますか"
    assert tallies[0].counts == [("はい", 1), ("いいえ", 0)]


def test_staff_build_publish_and_see_english_on_the_answer_page(
    client: TestClient, db: Database, admin: User
) -> None:
    login(client)
    page = client.get("/staff/surveys/new")
    assert page.status_code == 200
    made = client.post(
        "/staff/surveys/new",
        data={"title": "公園アンケート", "title_en": "Parks survey", "mode": "anonymous",
              "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303
    builder = made.headers["location"].split("?")[0]
    survey_id = int(builder.split("/")[3])
    token = csrf_of(client.get(builder).text)
    # Publishing without a question is refused on the page.
    empty = client.post(
        f"/staff/surveys/{survey_id}/publish",
        data={"published": "1", "back": "edit", "csrf_token": token},
    )
    assert empty.status_code == 422
    assert 'id="publish-error"' in empty.text
    # A question without text: told next to the field, the typed choices kept.
    no_text = client.post(
        f"/staff/surveys/{survey_id}/questions",
        data={"type": "single", "label": "", "choices": "はい\nいいえ", "csrf_token": token},
    )
    assert no_text.status_code == 422
    assert 'id="new-label-error"' in no_text.text
    assert "質問文を入力してください" in no_text.text
    assert "はい\nいいえ</textarea>" in no_text.text
    added = client.post(
        f"/staff/surveys/{survey_id}/questions",
        data={"type": "single", "label": "公園をよく使いますか", "label_en": "Do you use parks?",
              "choices": "はい\nいいえ", "choices_en": "Yes\nNo", "required": "1",
              "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code == 303
    assert added.headers["location"].endswith("#question-q1")
    follow = client.post(
        f"/staff/surveys/{survey_id}/questions",
        data={"type": "text", "label": "どの公園ですか", "condition": "q1:0", "csrf_token": token},
    )
    assert follow.status_code == 200
    assert '<option value="q1:0" selected>' in follow.text
    preview = client.get(f"/staff/surveys/{survey_id}/preview")
    assert "プレビューです" in preview.text
    assert 'data-show-if="q1"' in preview.text
    assert "disabled>回答を送る" in preview.text
    published = client.post(
        f"/staff/surveys/{survey_id}/publish",
        data={"published": "1", "back": "edit", "csrf_token": token},
    )
    assert published.url.path == builder
    url = published.text.split('id="survey-url">', 1)[1].split("<", 1)[0]
    resident = TestClient(client.app)
    english = resident.get(url + "?lang=en")
    assert "<h1>Parks survey</h1>" in english.text
    assert "1. Do you use parks?" in english.text
    assert 'value="はい"> Yes' in english.text
    assert answer(resident, url, {"q1": "はい", "q2": "井の頭公園"}).status_code == 200
    with db.session() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_id == str(survey_id))
        ).all()
        total, tallies = service.tally(session, session.get(Survey, survey_id))  # type: ignore[arg-type]
    assert actions.count("surveys.update") == 2
    assert "surveys.publish" in actions
    assert total == 1
    assert tallies[1].texts == ["井の頭公園"]


def test_builder_steps_need_the_token_and_the_permission(
    client: TestClient, db: Database, admin: User
) -> None:
    from cityos.core import auth

    survey_id = build(db, admin, PARKS)
    anonymous = TestClient(client.app)
    to_login = anonymous.get(f"/staff/surveys/{survey_id}/edit", follow_redirects=False)
    assert to_login.status_code == 303
    assert to_login.headers["location"].startswith("/login")
    login(client)
    forged = client.post(f"/staff/surveys/{survey_id}/questions/q1", data={"action": "delete"})
    assert forged.status_code == 403
    with db.session() as session:
        auth.create_user(session, "ana", "analyst", "analyst-password-1")
    analyst = TestClient(client.app)
    login(analyst, "ana", "analyst-password-1")
    assert analyst.get(f"/staff/surveys/{survey_id}/edit").status_code == 403
    assert analyst.get(f"/staff/surveys/{survey_id}/preview").status_code == 403
    token = csrf_of(analyst.get("/staff").text)
    denied = analyst.post(
        f"/staff/surveys/{survey_id}/questions/q1", data={"action": "delete", "csrf_token": token}
    )
    assert denied.status_code == 403
    with db.session() as session:
        assert [q["id"] for q in session.get(Survey, survey_id).questions] == ["q1"]  # type: ignore[union-attr]
