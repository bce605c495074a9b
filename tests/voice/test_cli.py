import json
import os
import subprocess
import sys
from pathlib import Path


def cityos(*args: str, data_dir: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    # No database URL at all: the command must not need one.
    env = {**os.environ, "CITYOS_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("CITYOS_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "cityos", *args],
        env=env,
        input=stdin,
        capture_output=True,
        timeout=300,
        check=False,
    )


def jsonl(*rows: object) -> bytes:
    return b"".join(json.dumps(row, ensure_ascii=False).encode() + b"\n" for row in rows)


def test_analyze_writes_good_lines_and_reports_bad_ones_by_number(tmp_path: Path) -> None:
    source = tmp_path / "texts.jsonl"
    source.write_bytes(
        jsonl(
            {
                "id": "t1",
                "text": "保育園の先生方がとても親切で、本当に助かっています。",
                "source": "sns",
            },
            {"id": "t2", "text": ""},
            {"text": "id のない行"},
        )
        + b'{"id": "t4", "text": "\xff\xfe broken"}\n'
        + b"not json\n"
        + jsonl(
            {"id": "t1", "text": "同じ id がもう一度"},
            {"id": "t7", "text": "あ" * 10_001},
            {"id": "t8", "text": "粗大ごみの収集がいつも遅くて困っています。"},
            {"id": 9, "text": "ごみ収集の日を教えてください。"},
        )
    )
    out = tmp_path / "analyzed.jsonl"
    done = cityos(
        "voice", "analyze", "--input", str(source), "--output", str(out), data_dir=tmp_path
    )
    assert done.returncode == 0, done.stderr.decode()
    stderr = done.stderr.decode()
    for number in (2, 3, 4, 5, 6, 7):
        assert f"line {number}:" in stderr
    assert "line 1:" not in stderr
    assert "line 8:" not in stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["t1", "t8", 9]
    assert rows[0]["source"] == "sns"  # the input object is kept as it came
    assert rows[0]["sentiment"] == "positive"
    assert rows[0]["sentiment_score"] > 0
    assert rows[1]["sentiment"] == "negative"
    assert rows[1]["sentiment_score"] < 0
    assert all(isinstance(row["topic"], str) and row["topic"] for row in rows)


def test_analyze_reads_stdin(tmp_path: Path) -> None:
    out = tmp_path / "analyzed.jsonl"
    done = cityos(
        "voice", "analyze", "--input", "-", "--output", str(out),
        data_dir=tmp_path, stdin=jsonl({"id": "a", "text": "図書館の予約方法を教えてください。"}),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    row = json.loads(out.read_text(encoding="utf-8"))
    assert row["sentiment"] == "neutral"


def test_analyze_fails_when_no_line_is_usable(tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_bytes(b"not json\n" + jsonl({"id": "x", "text": "   "}))
    done = cityos(
        "voice", "analyze", "--input", str(source), "--output", str(tmp_path / "o.jsonl"),
        data_dir=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "line 1:" in done.stderr.decode()
    assert "line 2:" in done.stderr.decode()
