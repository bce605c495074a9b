"""Benchmark 1 — ingest: loading a large Shift_JIS AED list, cityos against sqlite-utils.

Both load THE SAME generated file (自治体標準オープンデータセット「AED設置箇所一覧」推奨 layout,
Shift_JIS/CP932 with CRLF, seeded so runs repeat) on the same machine in the same run:

* ours: ``cityos opendata ingest FILE --dataset bench-aed --schema aed`` into a fresh
  SQLite database (or ``--backend postgresql``). The wall time is the whole command:
  interpreter start-up, migrations, encoding detection, schema validation of every cell,
  the ``_full_text`` search key, the copy into the file store, indexes and the commit.
* peer: ``sqlite-utils insert peer.db aed FILE.utf8.csv --csv`` from ``.venv-bench``.
  sqlite-utils reads UTF-8 only, so the file is converted with ``iconv`` first; that
  conversion is timed separately and NOT counted in the peer's figure (stricter for us).

    .venv/bin/python benchmarks/ingest.py                 # 1,000,000 rows (the real figure)
    .venv/bin/python benchmarks/ingest.py --rows 20000    # smoke test
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aed_data
from benchlib import (
    DEFAULT_BENCH_VENV,
    BenchError,
    Timed,
    Workspace,
    add_staff_account,
    cityos_command,
    count,
    figure_lines,
    machine_line,
    megabytes,
    package_version,
    peer_tool,
    postgres_database,
    ratio,
    step,
)

GOAL = 1.0
_LOADED = re.compile(
    r"OK: resource (?P<rid>[0-9a-f-]{36}) v\d+: (?P<loaded>\d+) rows loaded, "
    r"(?P<errors>\d+) rows with errors"
)


@dataclass
class Ours:
    timed: Timed
    resource_id: str
    loaded: int
    errors: int
    database: str


@dataclass
class Peer:
    timed: Timed
    iconv_s: float
    rows: int


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="cityos opendata ingest vs sqlite-utils insert --csv (same Shift_JIS file)"
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the CSV")
    parser.add_argument("--seed", type=int, default=132047, help="seed of the generated data")
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="database cityos loads into (the peer always writes SQLite)",
    )
    parser.add_argument("--bench-venv", type=Path, default=DEFAULT_BENCH_VENV)
    parser.add_argument("--cityos", default="", help="path of the cityos command")
    parser.add_argument("--tmpdir", default=None, help="where the temporary folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    return args


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child: ours without inherited CITYOS_* and with a wide console."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYOS_")}
    env.update(COLUMNS="250", NO_COLOR="1", TERM="dumb", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


# --- PostgreSQL for --backend postgresql -------------------------------------------------------


# --- the two runs ------------------------------------------------------------------------------


def run_ours(ws: Workspace, csv_path: Path, cityos: list[str], backend: str) -> Ours:
    data_dir = ws.path / "cityos-data"
    data_dir.mkdir()
    if backend == "postgresql":
        database = postgres_database(ws)
    else:
        database = f"sqlite:///{data_dir / 'cityos.db'}"
    env = child_env(CITYOS_DATA_DIR=str(data_dir), CITYOS_DATABASE_URL=database)
    command = [*cityos, "opendata", "ingest", str(csv_path), "--dataset", "bench-aed"]
    command += ["--schema", "aed"]
    add_staff_account(ws, cityos, env)
    with step(f"cityos: {' '.join(command[1:])}  [{backend}]"):
        timed = ws.run_timed(command, env=env, name="cityos-ingest")
    output = " ".join((timed.stdout + " " + timed.stderr).split())
    found = _LOADED.search(output)
    if timed.returncode != 0 or not found:
        raise BenchError(
            f"cityos ingest failed (exit {timed.returncode}):\n{timed.stdout}\n{timed.stderr}"
        )
    ours = Ours(
        timed, found["rid"], int(found["loaded"]), int(found["errors"]), database.split("@")[-1]
    )
    if backend == "sqlite":
        with sqlite3.connect(data_dir / "cityos.db") as conn:
            in_table = conn.execute(f'SELECT COUNT(*) FROM "{ours.resource_id}"').fetchone()[0]
        if in_table != ours.loaded:
            raise BenchError(f"cityos reported {ours.loaded} rows, its table has {in_table}")
    return ours


def to_utf8(ws: Workspace, csv_path: Path, target: Path) -> float:
    """Convert with iconv (Python's codec when iconv is missing); returns the seconds taken."""
    iconv = shutil.which("iconv")
    with step("peer: iconv -f CP932 -t UTF-8 (timed separately, not in the peer's figure)"):
        if iconv:
            command = [iconv, "-f", "CP932", "-t", "UTF-8", "-o", str(target), str(csv_path)]
            timed = ws.run_timed(command, name="iconv")
            if timed.returncode != 0:
                raise BenchError(f"iconv failed: {timed.stderr}")
            return timed.wall_s
        started = time.perf_counter()
        with (
            csv_path.open(encoding="cp932", newline="") as src,
            target.open("w", encoding="utf-8", newline="") as dst,
        ):
            shutil.copyfileobj(src, dst, 1 << 20)
        return time.perf_counter() - started


def run_peer(ws: Workspace, csv_path: Path, bench_venv: Path) -> Peer:
    sqlite_utils = peer_tool(bench_venv, "sqlite-utils")
    utf8 = ws.path / "aed.utf8.csv"
    iconv_s = to_utf8(ws, csv_path, utf8)
    database = ws.path / "peer.db"
    command = [sqlite_utils, "insert", str(database), "aed", str(utf8), "--csv"]
    with step(f"peer: sqlite-utils insert {database.name} aed {utf8.name} --csv"):
        timed = ws.run_timed(command, env=child_env(), name="sqlite-utils-insert")
    if timed.returncode != 0:
        raise BenchError(f"sqlite-utils failed (exit {timed.returncode}):\n{timed.stderr}")
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM aed").fetchone()[0]
    utf8.unlink()  # the file is as large as the source; free the space before the report
    return Peer(timed, iconv_s, rows)


# --- the report --------------------------------------------------------------------------------


def report(args: argparse.Namespace, size: int, ours: Ours, peer: Peer) -> None:
    ours_rate = ours.loaded / ours.timed.wall_s
    peer_rate = peer.rows / peer.timed.wall_s
    versions = (
        f"cityos {package_version(sys.executable, 'cityos')}, "
        f"sqlite-utils {package_version(str(args.bench_venv / 'bin' / 'python'), 'sqlite-utils')}"
    )
    backend = "SQLite" if args.backend == "sqlite" else "PostgreSQL"
    ok = ours_rate / peer_rate >= GOAL if peer_rate else False
    lines = [
        "",
        machine_line(),
        f"versions: {versions}; load average before/after: {args.load_before} / {load_average()}",
        "",
        f"ingest: {args.rows:,} rows Shift_JIS AED CSV (自治体標準 AED設置箇所一覧), "
        f"{megabytes(size)}",
        *figure_lines(
            [
                (
                    "cityos",
                    f"(cityos opendata ingest, schema-validated, {backend})",
                    f"{count(ours_rate)} rows/s",
                    f"{ours.timed.wall_s:.1f} s",
                ),
                (
                    "peer",
                    "(sqlite-utils insert --csv, after iconv)",
                    f"{count(peer_rate)} rows/s",
                    f"{peer.timed.wall_s:.1f} s",
                ),
            ]
        ),
        f"  ratio   {ratio(ours_rate, peer_rate)}  (goal >= {GOAL:.1f}x)  "
        f"{'OK / 達成' if ok else 'BELOW GOAL / 未達'}",
        f"  notes   cityos: {ours.loaded:,} rows loaded, {ours.errors:,} rows with errors; "
        f"CPU {ours.timed.cpu_s:.1f} s, peak RSS {ours.timed.max_rss_mb:,.0f} MB",
        f"          peer:   {peer.rows:,} rows in table aed; CPU {peer.timed.cpu_s:.1f} s, "
        f"peak RSS {peer.timed.max_rss_mb:,.0f} MB; iconv to UTF-8 took "
        f"{peer.iconv_s:.1f} s (not counted; with it: "
        f"{count(peer.rows / (peer.timed.wall_s + peer.iconv_s))} rows/s)",
        *([f"          cityos database: {ours.database}"] if args.backend != "sqlite" else []),
        "          wall time of each whole command, start-up included; same file, same "
        "machine, same run / 同一ファイル・同一マシン・同一実行",
    ]
    print("\n".join(lines), flush=True)
    if ours.errors or ours.loaded != args.rows or peer.rows != args.rows:
        raise BenchError(
            f"row counts differ from {args.rows:,}: cityos loaded {ours.loaded:,} "
            f"({ours.errors:,} with errors), peer {peer.rows:,}"
        )


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def main() -> int:
    args = parse_args()
    args.load_before = load_average()
    cityos = cityos_command(args.cityos)
    peer_tool(args.bench_venv, "sqlite-utils")  # fail before the long steps when missing
    try:
        with Workspace(keep=args.keep, parent=args.tmpdir) as ws:
            csv_path = ws.path / "aed_132047_bench_sjis.csv"
            with step(f"generating {args.rows:,} rows (Shift_JIS, CRLF) in {ws.path}"):
                size = aed_data.write_csv(csv_path, args.rows, args.seed)
            ours = run_ours(ws, csv_path, cityos, args.backend)
            peer = run_peer(ws, csv_path, args.bench_venv)
            report(args, size, ours, peer)
    except BenchError as exc:
        print(f"ingest benchmark failed / 失敗: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted / 中断しました (servers stopped, files removed)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
