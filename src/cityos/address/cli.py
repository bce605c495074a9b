"""``cityos address``: batch normalization, reverse geocoding, building the index."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cityos.address import index, service

app = typer.Typer(help="住所の正規化・ジオコーディング / addresses", no_args_is_help=True)
console = Console(stderr=True)
OUTPUT_KEYS = ("input", "pref", "city", "town", "addr", "other", "level", "lat", "lon")


@app.command("normalize")
def normalize_file(
    input: Annotated[
        Path, typer.Option("--input", exists=True, dir_okay=False, help="One address a line")
    ],
    output: Annotated[Path, typer.Option("--output", help="JSON lines, one result per input line")],
    prefer_city: Annotated[
        str | None, typer.Option(help="City to prefer when a town name is shared")
    ] = None,
) -> None:
    """住所を一括で正規化する / normalize a file of addresses into JSON lines."""
    started = time.perf_counter()
    index.load_index()
    count = 0
    with (
        input.open("r", encoding="utf-8", errors="replace", newline="") as source,
        output.open("w", encoding="utf-8") as sink,
        Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,} lines"),
            TimeElapsedColumn(), console=console, transient=False,
        ) as bar,
    ):  # fmt: skip
        task = bar.add_task(input.name, total=input.stat().st_size or None)
        read = 0
        for line in source:
            read += len(line.encode("utf-8", "replace"))
            text = line.rstrip("\r\n")
            result = service.normalize(text, prefer_city=prefer_city).as_dict(extras=False)
            sink.write(json.dumps({k: result[k] for k in OUTPUT_KEYS}, ensure_ascii=False) + "\n")
            count += 1
            if count % 2000 == 0:
                bar.update(task, completed=read)
        bar.update(task, completed=read)
    elapsed = time.perf_counter() - started
    console.print(
        f"OK: {count:,} addresses in {elapsed:.2f} s ({count / max(elapsed, 1e-9):,.0f}/s)"
    )


@app.command("reverse")
def reverse_point(lat: float, lon: float) -> None:
    """緯度経度から町字を求める / the town at a point."""
    found = service.reverse(lat, lon)
    print(json.dumps(found, ensure_ascii=False))
    if found is None:
        raise typer.Exit(1)


@app.command("build")
def build_index() -> None:
    """住所索引を作る（初回のみ数秒） / compile the address index (done once per data version)."""
    started = time.perf_counter()
    loaded = index.load_index()
    console.print(
        f"OK: {len(loaded.town_names):,} towns, {len(loaded.cities):,} cities "
        f"({time.perf_counter() - started:.1f} s)"
    )
