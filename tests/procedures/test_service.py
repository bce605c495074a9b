"""The procedure catalog and 手続きナビ rules, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import get_args

import pytest
from sqlalchemy import func, select

from cityos.core import audit
from cityos.core.errors import NotFoundProblem, ValidationProblem
from cityos.core.models import User
from cityos.db import Database
from cityos.procedures import api, catalog, service
from cityos.procedures.models import LIFE_EVENTS, Procedure

# The procedures the issue names: each must be in the catalog.
NAMED = {
    "転入届", "転出届", "転居届", "世帯変更届", "出生届", "児童手当", "子ども医療費助成", "国民健康保険",
    "国民年金", "印鑑登録", "住民票", "戸籍", "マイナンバーカード", "介護保険", "後期高齢者医療",
    "死亡届", "葬祭費", "婚姻届", "離婚届", "犬の登録", "粗大ごみ", "保育園", "学童", "就学",
    "妊娠届", "児童扶養手当", "障害者手帳", "住民税", "軽自動車税",
}  # fmt: skip


def test_the_shipped_catalog_is_loaded_with_every_common_procedure(db: Database) -> None:
    with db.session() as session:
        procedures = session.scalars(select(Procedure)).all()
        assert len(procedures) >= 40
        names = " ".join(p.name_ja for p in procedures)
        assert [n for n in NAMED if n not in names] == []
        ids = {p.id for p in procedures}
        for p in procedures:
            assert all((p.name_en, p.name_easy, p.department_ja, p.department_en)), p.id
            assert set(p.events) <= set(LIFE_EVENTS), p.id
            assert set(p.related) <= ids, p.id
        assert service.load_catalog(session) == 0  # nothing twice
    assert "not official" in catalog.attribution()["en"]


def test_every_rule_names_a_catalog_procedure_and_known_conditions(db: Database) -> None:
    known = {"procedure", "events", "why", "insurance", "from", "to", "child", "member",
             "person", "applicant", "household_min", "dog", "vehicle"}  # fmt: skip
    with db.session() as session:
        ids = set(session.scalars(select(Procedure.id)))
    for rule in catalog.navi_rules():
        assert rule["procedure"] in ids
        assert set(rule) <= known, rule
        assert set(rule["events"]) <= set(service.NAVI_EVENTS), rule
        assert len(rule["why"]) == 3


def test_the_api_event_choices_are_the_life_events() -> None:
    assert set(get_args(api.LifeEvent)) == set(LIFE_EVENTS)


def test_search_by_words_event_department_and_online(db: Database) -> None:
    with db.session() as session:
        # Width and kana do not matter: ｺｸﾎ finds the procedures keyworded こくほ.
        assert {p.id for p in service.search(session, q="ｺｸﾎ")} >= {"kokuho_kanyu"}
        found = [p.id for p in service.search(session, q="転入届")]
        assert found[0] == "tennyu"
        assert "tenshutsu" not in found
        assert service.search(session, q="転入届 犬") == []
        births = service.search(session, event="birth")
        assert "shussho" in {p.id for p in births}
        assert all("birth" in p.events for p in births)
        insurance = service.search(session, department="保険課")
        assert insurance
        assert all("保険課" in p.department_ja for p in insurance)
        online = service.search(session, online=True)
        assert online
        assert all(p.online for p in online)
        assert "tennyu" not in {p.id for p in online}
        with pytest.raises(ValidationProblem):
            service.search(session, event="holiday")
        with pytest.raises(NotFoundProblem):
            service.get(session, "no-such-procedure")


def answers(**given: str) -> service.NaviAnswers:
    return service.parse_answers(given)


def ids(db: Database, navi: service.NaviAnswers) -> list[str]:
    with db.session() as session:
        return [item.procedure.id for item in service.checklist(session, navi)]


def test_moving_in_with_a_family_lists_each_procedure_once_deadline_first(db: Database) -> None:
    found = ids(db, answers(event="move_in", age="34", household_ages="33, 4, 0",
                            insurance="kokuho", dog="1"))  # fmt: skip
    assert len(found) == len(set(found))
    assert found[0] == "tennyu"
    for expected in ("kokuho_kanyu", "jido_teate", "kodomo_iryo_nyuyoji", "hoikuen",
                     "inu_toroku", "mynumber_card_address"):  # fmt: skip
        assert expected in found
    for absent in ("shugaku", "kouki_shikaku", "kaigo_shikaku", "kodomo_iryo_gimu", "tenshutsu"):
        assert absent not in found
    with db.session() as session:
        days = [session.get(Procedure, i).deadline_days for i in found]  # type: ignore[union-attr]
    dated = [d for d in days if d is not None]
    assert dated == sorted(dated)
    assert days.index(None) == len(dated)  # no deadline comes after every deadline


def test_the_answers_change_the_checklist(db: Database) -> None:
    alone = ids(db, answers(event="move_in", age="30", insurance="shaho"))
    assert "kokuho_kanyu" not in alone
    assert "jido_teate" not in alone
    elderly = ids(db, answers(event="move_in", age="80", insurance="kouki"))
    assert {"kouki_shikaku", "kaigo_shikaku"} <= set(elderly)
    abroad = ids(db, answers(event="move_in", age="25", insurance="kokuho", moving_from="abroad"))
    assert "kokumin_nenkin" in abroad
    school = ids(db, answers(event="move_in", age="40", household_ages="8, 12", insurance="shaho"))
    assert {"shugaku", "kodomo_iryo_gimu", "gakudo"} <= set(school)
    birth = ids(db, answers(event="birth", age="31", insurance="shaho"))
    assert birth[0] == "shussho"
    assert "hoikuen" in birth  # the newborn counts as a child even when not listed
    assert "shussan_ikuji_ichijikin" not in birth  # paid by the employer's insurance instead
    death = ids(db, answers(event="death", person_age="82", insurance="kouki", age="78"))
    assert death[0] == "shibou_todoke"
    assert {"kouki_shikaku", "kaigo_shikaku", "sousaihi"} <= set(death)
    assert "kokuho_dattai" not in death


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"event": "holiday"}, "event"),
        ({"event": ""}, "event"),
        ({"event": "move_in", "age": "-3"}, "age"),
        ({"event": "move_in", "age": "二百"}, "age"),
        ({"event": "move_in", "household_ages": "4, x"}, "household_ages"),
        ({"event": "move_in", "household_ages": "300"}, "household_ages"),
        ({"event": "move_in", "insurance": "gold"}, "insurance"),
        ({"event": "death", "person_age": "999"}, "person_age"),
    ],
)
def test_bad_answers_are_named(given: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationProblem) as caught:
        service.parse_answers(given)
    assert field in caught.value.errors


def test_full_width_ages_are_read() -> None:
    navi = answers(event="birth", age="３２", household_ages="３４、２")
    assert navi.age == 32
    assert navi.household_ages == [34, 2]


def test_staff_edit_is_checked_whole_saved_and_audited(db: Database, admin: User) -> None:
    with db.session() as session:
        user = session.get(User, admin.id)
        assert user is not None
        procedure = service.get(session, "juminhyo")
        form = {name: getattr(procedure, name) for name in service.EDITABLE_TEXTS}
        bad = {**form, "name_ja": "", "deadline_days": "abc", "related": "nope", "events": ["x"]}
        with pytest.raises(ValidationProblem) as caught:
            service.update_procedure(session, user, "juminhyo", bad)
        assert set(caught.value.errors) == {"name_ja", "deadline_days", "related", "events"}
        assert service.get(session, "juminhyo").name_ja == "住民票の写しの交付"
        good = {
            **form,
            "fee_ja": "1通400円",
            "deadline_days": "",
            "online": "1",
            "events": ["daily", "move_in"],
            "related": "koseki_shomei, inkan_toroku",
            "bring": "本人確認書類 | Photo ID\n委任状 | Letter of authorization",
            "forms": "住民票の写し等交付請求書",
            "keywords": "住民票, 証明",
        }
        service.update_procedure(session, user, "juminhyo", good)
    with db.session() as session:
        saved = service.get(session, "juminhyo")
        assert saved.fee_ja == "1通400円"
        assert saved.events == ["daily", "move_in"]
        assert saved.bring[1] == {"ja": "委任状", "en": "Letter of authorization"}
        assert saved.updated_by == "admin"
        entries = audit.recent(session, target_type="procedure", target_id="juminhyo")
        assert len(entries) == 1
        assert "fee" in entries[0].detail["changed"]
        count = session.scalar(select(func.count()).select_from(Procedure))
        assert count == len(catalog.procedure_rows())
