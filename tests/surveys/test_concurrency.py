"""Two submissions of one resident at the same moment (a double tap on two phones): the
database's unique key keeps exactly one response and the other is told, on both backends."""

from __future__ import annotations

import json
import threading

from sqlalchemy import func, select

from cityos.core import auth
from cityos.core.errors import ConflictProblem
from cityos.core.models import User
from cityos.db import Database
from cityos.residents import service as residents
from cityos.residents.models import Resident
from cityos.surveys import service
from cityos.surveys.models import Survey, SurveyResponse
from tests.surveys.conftest import QUESTIONS

ANSWERS = {"q1": ["いいえ"], "q3": ["3"]}


def test_two_simultaneous_responses_of_one_resident_keep_one(db: Database, admin: User) -> None:
    with db.session() as session:
        user = session.get(User, admin.id)
        assert user is not None
        assert auth.can(user, service.MANAGE_PERMISSION)
        given = service.SurveyInput(
            title="同時回答", mode="resident", questions=json.dumps(QUESTIONS)
        )
        survey = service.create_survey(session, user, given)
        service.set_published(session, user, survey, True)
        resident = residents.sign_up(session, "twice@example.jp", "mitaka-hanako-2026")
        survey_id, resident_id = survey.id, resident.id

    start = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        with db.session() as session:
            survey = session.get(Survey, survey_id)
            resident = session.get(Resident, resident_id)
            assert survey is not None
            start.wait()
            try:
                service.submit(session, survey, resident, ANSWERS)
                session.commit()
                outcomes.append("kept")
            except ConflictProblem as problem:
                session.rollback()
                outcomes.append("told" if "1人1回" in problem.detail else problem.detail)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["kept", "told"]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
