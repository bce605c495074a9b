"""The `cityos chatbot` commands: import an FAQ CSV, ask a question (for batch evaluation)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from cityos import wiring
from cityos.chatbot import service
from cityos.chatbot.faqcsv import FIELD_LABELS
from cityos.core.errors import ProblemError

app = typer.Typer(help="FAQ チャットボット / FAQ chatbot", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.command("import")
def import_faq(
    file: Annotated[Path, typer.Argument(help="FAQ の CSV（UTF-8 / Shift_JIS） / FAQ CSV file")],
) -> None:
    """FAQ の CSV を取り込む（読めない行を報告） / add the entries of an FAQ CSV."""
    if not file.is_file():
        err.print(f"ファイルがありません / no such file: {file}", highlight=False)
        raise typer.Exit(2)
    try:
        imported = service.read_faq_csv(file)
    except ProblemError as exc:
        err.print(f"エラー / error: {exc.detail}", highlight=False)
        raise typer.Exit(1) from None
    console.print(f"文字コード / encoding: {imported.encoding}", highlight=False)
    console.print("選んだ列 / columns chosen:", highlight=False)
    for name, header in imported.columns.items():
        ja, en = FIELD_LABELS[name]
        console.print(f"  {ja} / {en}: 「{header}」", highlight=False)
    if "faq_id" not in imported.columns:
        console.print("  ID: 列がないので行番号を使います / no ID column: row numbers are used")
    if imported.from_html:
        console.print(
            f"HTML の項目 {imported.from_html} 件を文章として読みました（改行とリンク先は残します） / "
            f"{imported.from_html} entries were HTML, read as text (line breaks and links kept)",
            highlight=False,
        )
    _settings, db = wiring.open_database()
    db.upgrade()
    with db.session() as session:
        report = service.store_entries(session, imported, None, via="cli")
    db.dispose()
    console.print(
        f"{report.added} 件追加、{report.updated} 件更新、読めない行 {len(report.problems)} 件 / "
        f"{report.added} added, {report.updated} updated, {len(report.problems)} rows unreadable",
        highlight=False,
    )
    for problem in report.problems:
        console.print(
            f"  {problem.line}行目 / line {problem.line}: {problem.reason}", highlight=False
        )
    if not imported.entries:
        raise typer.Exit(1)


@app.command("ask")
def ask(
    question: Annotated[str | None, typer.Argument(help="質問 / the question")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON で出力 / print JSON")] = False,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="1 行 1 問のファイル (UTF-8, - で標準入力) に答え、1 行 1 件の JSON を出力 / "
            "answer a file of questions, one a line (UTF-8, - for stdin), one JSON line each",
        ),
    ] = None,
) -> None:
    """質問に FAQ から答える / answer a question from the FAQ.

    Only the FAQ's entries answer here (not the procedure catalog or live data, which the web,
    API and LINE also use), so that ``faq_id`` is always the imported CSV's ID. With ``--file``
    the index is built once for all the questions (batch evaluation)."""
    if (question is None) == (file is None):
        err.print(
            "質問を 1 つ、または --file を指定してください / give one question or --file",
            highlight=False,
        )
        raise typer.Exit(2)
    questions = [question] if question is not None else _read_questions(file)
    if not questions:
        err.print(f"質問がありません / no questions in {file}", highlight=False)
        raise typer.Exit(2)
    settings, db = wiring.open_database()
    db.upgrade()
    answers = []
    with db.session() as session:
        for asked_text in questions:
            asked = service.ask(
                session, asked_text, channel="cli", threshold=settings.chatbot_threshold,
                site_url=settings.site_url, log=False, faq_only=True,
            )  # fmt: skip
            answers.append(asked.answer)
    db.dispose()
    if file is not None or as_json:
        for answer in answers:
            sys.stdout.write(orjson.dumps(service.public_fields(answer)).decode() + "\n")
        return
    _print_answer(answers[0])


def _read_questions(file: Path | None) -> list[str]:
    """The questions of ``file`` (``-``: standard input), one a line, blank lines skipped."""
    try:
        if file is None or str(file) == "-":
            text = sys.stdin.read()
        else:
            text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        err.print(f"読めません / cannot read {file}: {error}", highlight=False)
        raise typer.Exit(2) from error
    return [line.strip() for line in text.splitlines() if line.strip()]


def _print_answer(answer: service.Answer) -> None:
    if service.source_kind(answer) == "greeting":
        console.print(answer.answer or "", highlight=False)
        for s in answer.suggestions:
            console.print(f"  [{s.faq_id}] {s.question}", highlight=False)
    elif answer.answered:
        console.print(f"[{answer.faq_id}] {answer.question}", highlight=False)
        console.print(answer.answer or "", highlight=False)
        if answer.url:
            console.print(answer.url, highlight=False)
        console.print(f"confidence {answer.confidence:.2f}", highlight=False)
    else:
        console.print(f"{service.DECLINED_JA} / {service.DECLINED_EN}", highlight=False)
        for s in answer.suggestions:
            console.print(f"  [{s.faq_id}] {s.question}", highlight=False)
