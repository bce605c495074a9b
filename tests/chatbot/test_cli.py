"""`cityos chatbot`, run as the real command on a fresh database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import select

from cityos.chatbot import service
from cityos.chatbot.models import AskedQuestion, FaqRow
from cityos.db import Database
from tests.chatbot.conftest import SMALL_FAQ
from tests.test_cli import cityos, env_for

ANSWER_KEYS = ["answered", "faq_id", "question", "answer", "confidence", "suggestions"]


def test_after_the_demo_ask_json_answers_and_declines(database_url: str, tmp_path: Path) -> None:
    env = env_for(database_url, tmp_path / "data")
    assert cityos(env, "db", "upgrade").returncode == 0
    demo = cityos(env, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "FAQ chatbot: 226 entries added" in demo.stdout

    asked = cityos(env, "chatbot", "ask", "--json", "粗大ごみを出したい")
    assert asked.returncode == 0, asked.stderr
    body = json.loads(asked.stdout)
    assert list(body) == ANSWER_KEYS
    assert body["answered"] is True
    assert re.fullmatch(r"FAQ-\d{4}", body["faq_id"])
    assert "粗大ごみ" in body["question"]
    assert "粗大ごみ" in body["answer"]
    assert 0 < body["confidence"] <= 1
    assert all(set(s) == {"faq_id", "question"} for s in body["suggestions"])

    declined = cityos(env, "chatbot", "ask", "--json", "今日の天気を教えて")
    assert declined.returncode == 0, declined.stderr
    body = json.loads(declined.stdout)
    assert list(body) == ANSWER_KEYS
    assert body["answered"] is False
    assert body["faq_id"] is None
    assert body["answer"] is None
    assert len(body["suggestions"]) == 3
    assert all(re.fullmatch(r"FAQ-\d{4}", s["faq_id"]) for s in body["suggestions"])

    greeted = cityos(env, "chatbot", "ask", "--json", "こんにちは！")
    assert greeted.returncode == 0, greeted.stderr
    body = json.loads(greeted.stdout)
    assert list(body) == ANSWER_KEYS
    # chit-chat is no answer from the FAQ: a batch evaluation counts it as declined
    assert (body["answered"], body["faq_id"], body["question"]) == (False, None, None)
    assert body["answer"].startswith("こんにちは。三鷹市のごみ・税・子育て・手続きなどについて")
    assert 2 <= len(body["suggestions"]) <= 3
    assert all(re.fullmatch(r"FAQ-\d{4}", s["faq_id"]) for s in body["suggestions"])

    plain = cityos(env, "chatbot", "ask", "今日の天気を教えて")
    assert "お答えできませんでした / Sorry, I could not find an answer." in plain.stdout
    db = Database(database_url)
    with db.session() as session:  # batch questions from the command line are not logged
        assert session.scalars(select(AskedQuestion)).first() is None
    db.dispose()


def test_import_a_shift_jis_file_without_ids_reports_columns_and_bad_lines(
    database_url: str, tmp_path: Path
) -> None:
    env = env_for(database_url, tmp_path / "data")
    csv_text = (
        "分類,問い,答え,担当部署\r\n"
        "税,住民税の納付方法は？,口座振替、コンビニ、スマホ決済で納付できます。,市民税課\r\n"
        "税,答えのない行,,市民税課\r\n"
        "健康,健診はいつですか,6月から11月です。,健康推進課,余計な列\r\n"
        "健康,がん検診の申し込みは？,健康推進課へ電話かインターネットで申し込みます。,健康推進課\r\n"
    )
    file = tmp_path / "faq_sjis.csv"
    file.write_bytes(csv_text.encode("cp932"))
    done = cityos(env, "chatbot", "import", str(file))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "文字コード / encoding: Shift_JIS (CP932)" in out
    assert "「問い」" in out
    assert "「答え」" in out
    assert "「分類」" in out
    assert "「担当部署」" in out
    assert "no ID column: row numbers are used" in out
    assert "2 added, 0 updated, 2 rows unreadable" in out
    assert re.search(r"3行目 / line 3: .*回答が空", out)
    assert re.search(r"4行目 / line 4: .*列が多すぎます", out)
    db = Database(database_url)
    with db.session() as session:
        rows = {r.faq_id: r.question for r in session.scalars(select(FaqRow))}
    db.dispose()
    assert rows == {"1": "住民税の納付方法は?", "4": "がん検診の申し込みは?"}

    again = cityos(env, "chatbot", "ask", "--json", "がん検診を申し込みたい")
    assert json.loads(again.stdout)["faq_id"] == "4"


def test_import_of_a_file_with_no_readable_row_fails(database_url: str, tmp_path: Path) -> None:
    env = env_for(database_url, tmp_path / "data")
    file = tmp_path / "broken.csv"
    file.write_bytes("質問,回答\r\n答えのない質問,\r\n,質問のない答え\r\n".encode("cp932"))
    done = cityos(env, "chatbot", "import", str(file))
    assert done.returncode != 0
    assert "0 added, 0 updated, 2 rows unreadable" in done.stdout
    assert "2行目 / line 2" in done.stdout
    assert "3行目 / line 3" in done.stdout
    missing = cityos(env, "chatbot", "import", str(tmp_path / "nothing.csv"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr


def test_ask_json_answers_only_from_the_imported_faq(database_url: str, tmp_path: Path) -> None:
    """The web and LINE answer 「出生届はどこに出す？」 from the procedure catalog (a fresh
    database has it); the command line, whose faq_id must be the CSV's ID, answers from the
    imported FAQ alone — here it has no entry on births, so it declines."""
    env = env_for(database_url, tmp_path / "data")
    imported = cityos(env, "chatbot", "import", str(SMALL_FAQ))
    assert imported.returncode == 0, imported.stderr
    db = Database(database_url)
    with db.session() as session:
        on_the_web = service.ask(session, "出生届はどこに出す？", log=False).answer
    db.dispose()
    assert service.source_kind(on_the_web) == "procedures"
    asked = cityos(env, "chatbot", "ask", "--json", "出生届はどこに出す？")
    assert asked.returncode == 0, asked.stderr
    body = json.loads(asked.stdout)
    assert (body["answered"], body["faq_id"]) == (False, None)
    assert all(re.fullmatch(r"T\d{3}", s["faq_id"]) for s in body["suggestions"])


def test_ask_file_answers_each_line_as_one_json_line(database_url: str, tmp_path: Path) -> None:
    env = env_for(database_url, tmp_path / "data")
    imported = cityos(env, "chatbot", "import", str(SMALL_FAQ))
    assert imported.returncode == 0, imported.stderr
    questions = ["粗大ごみの出し方", "", "明日の天気は？", "じゅうみんひょうがほしい"]
    listed = tmp_path / "questions.txt"
    listed.write_text("\n".join(questions) + "\n", encoding="utf-8")

    batch = cityos(env, "chatbot", "ask", "--file", str(listed))
    assert batch.returncode == 0, batch.stderr
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert len(lines) == 3  # the blank line is skipped
    assert all(list(body) == ANSWER_KEYS for body in lines)
    assert [(b["answered"], b["faq_id"]) for b in lines] == [
        (True, "T001"), (False, None), (True, "T003"),
    ]  # fmt: skip
    # The same answers as asking one at a time, and from standard input.
    one = cityos(env, "chatbot", "ask", "--json", "明日の天気は？")
    assert json.loads(one.stdout) == lines[1]
    piped = cityos(env, "chatbot", "ask", "--json", "--file", "-", stdin="\n".join(questions))
    assert [json.loads(line) for line in piped.stdout.splitlines()] == lines


def test_ask_says_what_is_wrong_with_its_arguments(database_url: str, tmp_path: Path) -> None:
    env = env_for(database_url, tmp_path / "data")
    listed = tmp_path / "questions.txt"
    listed.write_text("粗大ごみ\n", encoding="utf-8")
    both = cityos(env, "chatbot", "ask", "粗大ごみ", "--file", str(listed))
    assert both.returncode == 2
    assert "give one question or --file" in both.stderr
    neither = cityos(env, "chatbot", "ask", "--json")
    assert neither.returncode == 2
    assert "give one question or --file" in neither.stderr
    missing = cityos(env, "chatbot", "ask", "--file", str(tmp_path / "none.txt"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    nothing = cityos(env, "chatbot", "ask", "--file", str(empty))
    assert nothing.returncode == 2
    assert "no questions" in nothing.stderr


def test_import_says_how_many_entries_were_html(database_url: str, tmp_path: Path) -> None:
    file = tmp_path / "faq_html.csv"
    file.write_text(
        "ID,質問,回答\r\nH1,ごみの日は？,<p>週2回です。</p><p>地域で違います。</p>\r\n",
        encoding="utf-8",
    )
    done = cityos(env_for(database_url, tmp_path / "data"), "chatbot", "import", str(file))
    assert done.returncode == 0, done.stderr
    assert "1 entries were HTML, read as text" in done.stdout
    asked = cityos(
        env_for(database_url, tmp_path / "data"), "chatbot", "ask", "--json", "ごみの日は？"
    )
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["answer"] == "週2回です。\n地域で違います。"
