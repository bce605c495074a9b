"""Inquiries and SNS posts come into the same analysis as opinions: by command, by the staff
upload page, by the API, and from the SNS domain's stored posts. Bad rows are reported by
line; good rows are kept. The analysis API and the CSV export read what was stored."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.core.models import User
from cityos.db import Database
from cityos.settings import Settings
from cityos.voice.models import VoiceText
from tests.conftest import csrf_of, login

INQUIRIES = (
    "番号,受付日時,町名,お問い合わせ内容\n"
    "A-1,2026/10/01 09:30,下連雀,粗大ごみの出し方を教えてください。\n"
    "A-2,2026/10/02 10:00,野崎,粗大ごみの収集日が変わったのはいつからですか。\n"
    "A-3,2026/10/03 11:00,,保育園の入園申し込みはいつまでですか。\n"
    "A-4,not a date,,保育園の空き状況を知りたいです。\n"
    "A-5,2026/10/05 12:00,大阪市北区,道路の穴が危ないです。\n"
    "A-6,2026/10/06 12:00,,\n"
    "A-1,2026/10/07 12:00,,同じ番号の行\n"
    '=cmd|calc!A1,2026/10/08 12:00,井の頭,"=HYPERLINK(""http://x"")と書いた問い合わせです。"\n'
)


def cityos(*args: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CITYOS_DATA_DIR": str(settings.data_dir), "COLUMNS": "200",
           "CITYOS_DATABASE_URL": settings.resolved_database_url}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "cityos", *args],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_the_import_command_reads_a_shift_jis_csv_and_reports_bad_rows_by_line(
    tmp_path: Path, settings: Settings, db: Database
) -> None:
    source = tmp_path / "inquiries.csv"
    source.write_bytes(INQUIRIES.encode("cp932"))
    done = cityos("voice", "import", "--source", "inquiry", str(source), settings=settings)
    assert done.returncode == 0, done.stderr
    assert "OK: 4 new, 0 updated (inquiry); 4 lines skipped" in done.stdout
    problems = " ".join(done.stderr.split())
    assert "5行目 / line 5: 日時が読めません" in problems
    assert "6行目 / line 6: 町名 '大阪市北区' は市内にありません" in problems
    assert "7行目 / line 7: 本文が空です" in problems
    assert "8行目 / line 8: id 'A-1' が重複しています" in problems
    with db.session() as session:
        rows = {row.ref: row for row in session.scalars(select(VoiceText))}
    assert sorted(rows) == ["=cmd|calc!A1", "A-1", "A-2", "A-3"]
    assert rows["A-1"].town == "下連雀"
    assert rows["A-1"].said_at.isoformat() == "2026-10-01T00:30:00+00:00"
    assert rows["A-3"].town == ""
    assert {row.source for row in rows.values()} == {"inquiry"}
    assert rows["A-1"].topic == rows["A-2"].topic != rows["A-3"].topic
    again = cityos("voice", "import", "--source", "inquiry", str(source), settings=settings)
    assert "OK: 0 new, 4 updated" in again.stdout


def test_the_import_command_refuses_a_file_that_is_not_text(tmp_path: Path, settings: Settings, db: Database) -> None:  # fmt: skip
    source = tmp_path / "inquiries.xlsx"
    source.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    done = cityos("voice", "import", "--source", "inquiry", str(source), settings=settings)
    assert done.returncode == 1
    assert "CSV ではなく ZIP" in done.stderr
    wrong = cityos("voice", "import", "--source", "mail", str(source), settings=settings)
    assert wrong.returncode == 2
    assert "inquiry か sns" in wrong.stderr


def test_staff_upload_json_lines_of_sns_posts_on_the_import_page(
    client: TestClient, db: Database, admin: User
) -> None:
    login(client)
    page = client.get("/staff/voice/import")
    lines = (
        '{"id": "p1", "text": "井の頭公園の紅葉が最高にきれい!", "created_at": "2026-11-01T10:00:00+09:00"}\n'
        '{"id": "p2", "text": ""}\n'
        "not json\n"
        '{"id": "p3", "text": "三鷹駅前の駐輪場、いつも満車で困る", "town": "下連雀"}\n'
    ).encode()
    answer = client.post(
        "/staff/voice/import",
        data={"csrf_token": csrf_of(page.text), "source": "sns"},
        files={"file": ("posts.jsonl", lines, "application/x-ndjson")},
    )
    assert answer.status_code == 200
    assert "新規 2" in answer.text
    assert "2行目 / line 2: text が空です" in answer.text
    assert "3行目 / line 3: JSON として読めません" in answer.text
    with db.session() as session:
        rows = {r.ref: r for r in session.scalars(select(VoiceText))}
    assert rows["p1"].sentiment == "positive"
    assert rows["p3"].sentiment == "negative"
    assert rows["p3"].town == "下連雀"
    nothing = client.post(
        "/staff/voice/import",
        data={"csrf_token": csrf_of(page.text), "source": "sns"},
        files={"file": ("posts.jsonl", b"not json\n", "application/x-ndjson")},
    )
    assert nothing.status_code == 422


def test_sns_posts_stored_by_the_sns_domain_are_pulled_in(
    client: TestClient, db: Database, auth_headers: dict[str, str]
) -> None:
    posts = (
        '{"id": "s1", "text": "三鷹市のシティバスが便利になって嬉しい", "created_at": "2026-11-02T10:00:00+09:00"}\n'
        '{"id": "s2", "text": "RT 三鷹市のシティバスが便利になって嬉しい", "retweet_of": "s1"}\n'
    )
    sent = client.post("/api/sns/posts", content=posts.encode(),
                       headers={**auth_headers, "content-type": "application/x-ndjson"})  # fmt: skip
    assert sent.status_code == 200, sent.text
    login(client)
    page = client.get("/staff/voice/import")
    pulled = client.post(
        "/staff/voice/import", data={"csrf_token": csrf_of(page.text), "pull": "sns"}
    )
    assert pulled.status_code == 200
    assert "新規 1" in pulled.text
    with db.session() as session:
        rows = session.scalars(select(VoiceText)).all()
    assert [(r.source, r.ref, r.sentiment) for r in rows] == [("sns", "s1", "positive")]


def test_the_api_imports_summarises_filters_and_exports(
    client: TestClient, db: Database, auth_headers: dict[str, str]
) -> None:
    body = "\n".join(
        [
            '{"id": "1", "text": "粗大ごみの収集日を増やしてほしい", "town": "下連雀", "created_at": "2026-10-01T10:00:00+09:00"}',
            '{"id": "2", "text": "ごみの分別が分かりにくくて困っています", "town": "野崎", "created_at": "2026-10-03T10:00:00+09:00"}',
            '{"id": "3", "text": "保育園の先生が親切で助かっています", "town": "下連雀", "created_at": "2026-10-20T10:00:00+09:00"}',
            '{"id": "4", "text": "保育園の入園手続きが分かりやすかった", "created_at": "2026-10-21T10:00:00+09:00"}',
            '{"id": "5", "text": "=1+1 ごみの日はいつ?", "created_at": "2026-10-22T10:00:00+09:00"}',
        ]
    )
    unauthorised = client.post("/api/voice/import?source=inquiry", content=body.encode())
    assert unauthorised.status_code == 401
    assert unauthorised.headers["content-type"].startswith("application/problem+json")
    made = client.post("/api/voice/import?source=inquiry", content=body.encode(),
                       headers={**auth_headers, "content-type": "application/x-ndjson"})  # fmt: skip
    assert made.status_code == 200, made.text
    assert made.json() == {"source": "inquiry", "stored": 5, "updated": 0, "problems": []}
    summary = client.get("/api/voice/summary", headers=auth_headers).json()
    assert summary["total"] == 5
    assert sum(summary["sentiments"].values()) == 5
    assert summary["sentiments"]["positive"] >= 2
    assert sum(topic["size"] for topic in summary["topics"]) == 5
    first = summary["topics"][0]
    assert first["label"] == "・".join(first["words"])
    assert first["quotes"]
    assert sum(point["texts"] for point in first["trend"]) == first["size"]
    town = client.get("/api/voice/texts?town=下連雀", headers=auth_headers).json()["items"]
    assert sorted(item["ref"] for item in town) == ["1", "3"]
    period = client.get("/api/voice/texts?since=2026-10-20&until=2026-10-21", headers=auth_headers)
    assert sorted(item["ref"] for item in period.json()["items"]) == ["3", "4"]
    bad = client.get("/api/voice/texts?source=letters", headers=auth_headers)
    assert bad.status_code == 422
    assert "source" in bad.json()["errors"]
    backwards = client.get(
        "/api/voice/texts?since=2026-10-21&until=2026-10-01", headers=auth_headers
    )
    assert backwards.status_code == 422
    export = client.get("/api/voice/export.csv?source=inquiry", headers=auth_headers)
    assert export.status_code == 200
    assert export.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["id", "source", "ref"]
    assert table[1][:3] == ["番号", "種別", "元の番号"]
    assert len(table) == 2 + 5
    texts = {row[2]: row for row in table[2:]}
    assert texts["5"][8] == "'=1+1 ごみの日はいつ?"
    assert texts["1"][1] == "問い合わせ"
    assert texts["1"][3] == "2026-10-01 10:00"
    assert client.get("/api/voice/summary").status_code == 401


def test_the_analysis_page_shows_topics_sentiment_and_filters(
    client: TestClient, db: Database, auth_headers: dict[str, str]
) -> None:
    body = "\n".join(
        f'{{"id": "{i}", "text": "{text}", "town": "{town}", '
        f'"created_at": "2026-10-0{i + 1}T10:00:00+09:00"}}'
        for i, (text, town) in enumerate(
            [
                ("粗大ごみの収集日を増やしてほしい", "下連雀"),
                ("ごみの分別が分かりにくくて困っています", "野崎"),
                ("保育園の先生が親切で助かっています", "下連雀"),
                ("保育園の入園手続きが分かりやすかった", "井の頭"),
            ]
        )
    )
    client.post("/api/voice/import?source=inquiry", content=body.encode(),
                headers={**auth_headers, "content-type": "application/x-ndjson"})  # fmt: skip
    login(client)
    page = client.get("/staff/voice")
    assert page.status_code == 200
    assert "自動で見つけた話題" in page.text
    assert "4 件" in page.text
    assert "肯定的" in page.text
    # Each topic's trend over the days of the texts, drawn as a small chart with its numbers.
    assert page.text.count("<svg") == len(page.text.split('class="panel voice-topic"')) - 1
    assert "推移: 10/01 " in page.text
    assert "保育園" in page.text
    only = client.get("/staff/voice?town=野崎")
    assert "1 件" in only.text
    assert "分別" in only.text
    assert "保育園の先生" not in only.text
    wrong = client.get("/staff/voice?since=yesterday")
    assert wrong.status_code == 422
    assert "YYYY-MM-DD" in wrong.text


def test_dates_in_the_filters_are_days_not_unix_times(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    for value in ("0", "1700000000", "2026/10/01", "yesterday"):
        answer = client.get(f"/api/voice/texts?until={value}", headers=auth_headers)
        assert answer.status_code == 422, value
        assert "YYYY-MM-DD" in answer.json()["errors"]["until"][0]
    edges = client.get("/api/voice/texts?since=0001-01-01&until=9999-12-31", headers=auth_headers)
    assert edges.status_code == 200
    assert edges.json() == {"items": []}
