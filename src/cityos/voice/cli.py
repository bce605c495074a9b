"""The ``cityos voice`` commands: analyse citizens' texts (sentiment and topics)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
err = Console(stderr=True)

app = typer.Typer(help="市民の声 / citizens' voice", no_args_is_help=True)


@app.command("analyze")
def analyze_command(
    input_path: Annotated[
        Path,
        typer.Option(
            "--input", help="Texts, one JSON object a line with id and text (- for stdin)"
        ),
    ],
    output_path: Annotated[
        Path, typer.Option("--output", help="Each text with sentiment, sentiment_score and topic")
    ],
) -> None:
    """意見・問い合わせ・投稿の感情と話題を分析する / sentiment and topics of texts."""
    from collections import Counter

    import orjson
    from rich.progress import Progress

    from cityos.core import jsonlines
    from cityos.voice import service

    try:
        lines = jsonlines.input_lines(input_path)
    except FileNotFoundError:
        err.print(f"[red]エラー / error:[/] {input_path} がありません / no such file")
        raise typer.Exit(2) from None
    found, problems = service.read_texts(lines)
    for problem in problems:
        err.print(f"[yellow]読めません / skipped:[/] {problem}", highlight=False)
    if not found:
        err.print("[red]エラー / error:[/] 使える行がありません / no usable line")
        raise typer.Exit(1)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("分析中 / analysing", total=len(found))
        rows = service.analyze(found, lambda n: progress.advance(task, n))
    with output_path.open("wb") as out:
        for row in rows:
            out.write(orjson.dumps(row) + b"\n")
    counts = Counter(str(row["sentiment"]) for row in rows)
    topics = len({row["topic"] for row in rows})
    summary = ", ".join(f"{name} {counts[name]}" for name in ("positive", "negative", "neutral"))
    console.print(
        f"OK: {len(rows)} texts analysed → {output_path} ({summary}; {topics} topics); "
        f"{len(problems)} lines skipped"
    )


@app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (header: 本文/text, 番号/id, 町名/town, 日時/created_at) or JSON lines"
        ),
    ],
    source: Annotated[str, typer.Option("--source", help="inquiry or sns")],
    encoding: Annotated[
        str, typer.Option(help="utf-8, shift_jis, euc-jp (detected when empty)")
    ] = "",
) -> None:
    """問い合わせ・SNS投稿を取り込んで分析する / import inquiries or SNS posts and analyse them."""
    from cityos import wiring
    from cityos.core.errors import ProblemError
    from cityos.voice import service

    if source not in ("inquiry", "sns"):
        err.print(
            "[red]エラー / error:[/] --source は inquiry か sns です / --source is inquiry or sns"
        )
        raise typer.Exit(2)
    if not file.is_file():
        err.print(f"[red]エラー / error:[/] {file} がありません / no such file", highlight=False)
        raise typer.Exit(2)
    settings, db = wiring.open_database()
    db.upgrade()
    try:
        with db.session() as session:
            towns = service.city_towns(settings.city_name_ja)
            report = service.import_file(
                session, None, source, file, towns, encoding=encoding, via="cli"
            )
    except ProblemError as exc:
        err.print(f"[red]エラー / error:[/] {exc.detail}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    for problem in report.problems:
        err.print(f"[yellow]読めません / skipped:[/] {problem}", highlight=False)
    console.print(
        f"OK: {report.stored} new, {report.updated} updated ({source}); "
        f"{len(report.problems)} lines skipped"
    )
    if not report.stored and not report.updated:
        raise typer.Exit(1)


@app.command("pull-sns")
def pull_sns_command() -> None:
    """SNS分類の保存済み投稿を分析に加える / add the stored SNS posts to the analysis."""
    from cityos import wiring
    from cityos.voice import service

    _settings, db = wiring.open_database()
    db.upgrade()
    with db.session() as session:
        report = service.pull_sns(session, None, via="cli")
    db.dispose()
    console.print(f"OK: {report.stored} new, {report.updated} updated (sns)")


@app.command("regroup")
def regroup_command() -> None:
    """保存済みの文章の話題を見つけ直す / group the stored texts into topics again.

    Imports do this themselves; an opinion published on the web joins the nearest existing
    topic, so run this (nightly, say) when many opinions came in between imports."""
    from cityos import wiring
    from cityos.voice import service

    _settings, db = wiring.open_database()
    db.upgrade()
    with db.session() as session:
        grouped = service.regroup_topics(session)
    db.dispose()
    console.print(f"OK: {grouped} texts grouped into topics again")
