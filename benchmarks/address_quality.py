"""Benchmark 3 — address quality: cityos.address against normalize-japanese-address.

Both normalizers read THE SAME dev set (benchmarks/data/address_devset.jsonl, made by
make_address_devset.py: 3,000 addresses from all 47 prefectures and every 町丁目 of Mitaka,
with the expected pref / city / town / addr / level of each) on the same machine in the same
run, each in a worker process of its own:

* ours: ``.venv/bin/python`` calling ``cityos.address.service.normalize(text)`` (or, with
  ``--via-cli``, the command the city uses: ``cityos address normalize --input F --output F``);
* peer: ``.venv-bench/bin/python`` calling ``normalize_japanese_address.normalize.normalize``
  (PyPI ``normalize-japanese-address``, offline, Geolonia's data like ours).

Figures: agreement with the expected answer per field, overall and per category; start-up
(import + the first address, index load included); addresses/s over the whole set after
start-up, one process, one thread (with CPU time); and the ratio of the throughputs. Every
disagreement of ours goes to benchmarks/out/address_disagreements.jsonl.

    .venv/bin/python benchmarks/address_quality.py               # the real figures
    .venv/bin/python benchmarks/address_quality.py --ours-only   # quick iterations
    .venv/bin/python benchmarks/address_quality.py --via-cli     # ours through the CLI
    .venv/bin/python benchmarks/address_quality.py --peer-limit 300
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchlib import (
    DEFAULT_BENCH_VENV,
    ROOT,
    BenchError,
    Workspace,
    cityos_command,
    count,
    machine_line,
    package_version,
    step,
)

HERE = Path(__file__).resolve().parent
DEFAULT_DEVSET = HERE / "data" / "address_devset.jsonl"
DEFAULT_OUT = HERE / "out"
PEER_DIST = "normalize-japanese-address"
FIELDS = ("pref", "city", "town", "addr", "level")
RESULT_KEYS = ("pref", "city", "town", "addr", "other", "level", "lat", "lon")
WARM_UP = "東京都三鷹市野崎一丁目1-1"  # the first address of every worker, not in the figures
CATEGORY_ORDER = [
    "well_formed", "width_kanji", "no_pref", "no_pref_city", "gun_omitted", "postcode",
    "spaces_newlines", "building", "oaza", "variants", "kana", "typo", "koaza", "partial",
    "ambiguous", "bad", "real",
]  # fmt: skip
# Goals of the issue: agreement on well_formed, level, throughput, ratio, start-up.
GOAL_AGREEMENT = 0.995
GOAL_LEVEL = 0.99
GOAL_RATE = 5_000.0
GOAL_RATIO = 100.0
GOAL_STARTUP_S = 2.0
PEER_BUDGET_S = 300.0  # above this estimate the peer runs on a stratified sample by default
PEER_SAMPLE = 600
PEER_PROBE = 300  # addresses the peer normalizes before its whole-set time is estimated
SHOW = 15
MITAKA_ROW = "三鷹市 (Mitaka)"
SAME_ROW = "all, peer's ids"


# === the worker: runs inside ours' or the peer's venv ==========================================

_PEER_NUMBERS = re.compile(r"^(\d+(?:-\d+)*)(.*)$", re.DOTALL)


def _ours() -> tuple[Callable[[str], Any], Callable[[Any], dict[str, Any]]]:
    from cityos.address.service import normalize

    def convert(result: Any) -> dict[str, Any]:
        if isinstance(result, dict):
            return {k: result.get(k) for k in RESULT_KEYS}
        return {k: getattr(result, k, None) for k in RESULT_KEYS}

    return normalize, convert


def _peer() -> tuple[Callable[[str], Any], Callable[[Any], dict[str, Any]]]:
    from normalize_japanese_address.normalize import normalize

    def convert(result: dict[str, Any]) -> dict[str, Any]:
        # The peer leaves 番地・号 and the rest together in `address` ("22-14 ハイツ201");
        # its leading numbers are its addr, what follows its other.
        address = str(result.get("address") or "").strip()
        found = _PEER_NUMBERS.match(address)
        addr, other = (found[1], found[2].strip()) if found else (None, address)
        return {
            "pref": result.get("pref") or None,
            "city": result.get("city") or None,
            "town": result.get("town") or None,
            "addr": addr,
            "other": other or None,
            "level": result.get("level"),
            "lat": result.get("lat") or None,
            "lon": result.get("long") or None,
        }

    return normalize, convert


def worker_main(argv: list[str]) -> int:
    """``address_quality.py --worker SIDE INPUTS RESULTS``: normalize, time, write results."""
    parser = argparse.ArgumentParser(prog="address_quality.py --worker")
    parser.add_argument("side", choices=["ours", "peer"])
    parser.add_argument("inputs", type=Path, help="JSON lines {id, input}")
    parser.add_argument("results", type=Path, help="JSON lines {id, got, error}")
    parser.add_argument("--limit", type=int, default=0, help="the first N inputs only")
    parser.add_argument(
        "--budget-s", type=float, default=0.0, help="cut to --sample when all would take longer"
    )
    parser.add_argument("--sample", type=int, default=PEER_SAMPLE)
    parser.add_argument("--probe", action="store_true", help="start up and stop (cold start)")
    args = parser.parse_args(argv)
    items = [json.loads(line) for line in args.inputs.open(encoding="utf-8")]
    if args.limit:
        items = items[: args.limit]

    started = time.perf_counter()
    normalize, convert = _ours() if args.side == "ours" else _peer()
    convert(normalize(WARM_UP))
    startup_s = time.perf_counter() - started
    stats: dict[str, Any] = {"startup_s": startup_s, "ready_at": time.time()}
    if args.probe:
        args.results.with_suffix(".stats.json").write_text(json.dumps(stats))
        return 0

    raw: list[tuple[int, Any, str | None]] = []
    end, sampled = len(items), False
    cpu_started, t0 = time.process_time(), time.perf_counter()
    shown = halfway = t0
    i = 0
    while i < end:
        item = items[i]
        try:
            raw.append((item["id"], normalize(item["input"]), None))
        except Exception as exc:  # the peer's exceptions count as wrong answers
            raw.append((item["id"], None, f"{type(exc).__name__}: {exc}"[:300]))
        i += 1
        if i == PEER_PROBE // 2:
            halfway = time.perf_counter()
        if args.budget_s and i == PEER_PROBE and end > args.sample:
            # The peer gets faster as it caches each city's towns: the estimate uses the
            # pace of the second half of the probe, not of its cold start.
            now = time.perf_counter()
            pace = (PEER_PROBE - PEER_PROBE // 2) / max(now - halfway, 1e-9)
            if now - t0 + (end - i) / pace > args.budget_s:
                end, sampled = args.sample, True
        now = time.perf_counter()
        if now - shown > 15:
            print(f"    {args.side}: {i:,}/{end:,} addresses, {now - t0:.0f} s", file=sys.stderr)
            shown = now
    stats.update(
        wall_s=time.perf_counter() - t0,
        cpu_s=time.process_time() - cpu_started,
        n=len(raw),
        sampled=sampled,
        exceptions=sum(1 for _, _, error in raw if error),
    )
    with args.results.open("w", encoding="utf-8") as out:
        for item_id, result, error in raw:
            got = convert(result) if error is None else None
            out.write(json.dumps({"id": item_id, "got": got, "error": error}, ensure_ascii=False))
            out.write("\n")
    args.results.with_suffix(".stats.json").write_text(json.dumps(stats))
    return 0


# === the main script: runs the workers and compares ===========================================


@dataclass
class Side:
    """One normalizer's run over (part of) the dev set."""

    name: str
    how: str
    version: str
    got: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    startup_s: float = 0.0  # import + the first address, index load included (warm cache)
    process_ready_s: float = 0.0  # the same from the process's start (interpreter included)
    cold_startup_s: float | None = None  # with an empty index cache (ours only)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    sampled: bool = False
    limit_note: str = ""
    startup_in_wall: bool = False  # --via-cli: the wall time is the whole command's

    @property
    def n(self) -> int:
        return len(self.got)

    @property
    def rate(self) -> float:
        """Addresses per second of wall time (start-up included with --via-cli)."""
        return self.n / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def rate_after_startup(self) -> float:
        wall = self.wall_s - (self.startup_s if self.startup_in_wall else 0.0)
        return self.n / wall if wall > 0 else 0.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="cityos.address vs normalize-japanese-address on the address dev set"
    )
    parser.add_argument("--devset", type=Path, default=DEFAULT_DEVSET)
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--ours-only", action="store_true", help="skip the peer (quick iterations)")
    only.add_argument("--peer-only", action="store_true", help="skip ours")
    parser.add_argument(
        "--peer-limit",
        default="auto",
        help="addresses the peer normalizes: N (a stratified sample), 'all', or 'auto' "
        f"(all, unless that would take over {PEER_BUDGET_S / 60:.0f} minutes: then a "
        f"{PEER_SAMPLE}-address stratified sample) [auto]",
    )
    parser.add_argument(
        "--via-cli",
        action="store_true",
        help="measure ours through `cityos address normalize --input --output` (wall time "
        "of the command, start-up included)",
    )
    parser.add_argument("--show", type=int, default=SHOW, help="disagreements of ours to print")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the JSONL goes")
    parser.add_argument("--bench-venv", type=Path, default=DEFAULT_BENCH_VENV)
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--cityos", default="", help="path of the cityos command (--via-cli)")
    parser.add_argument("--tmpdir", default=None, help="where the temporary folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.peer_limit not in ("auto", "all") and not args.peer_limit.isdigit():
        parser.error("--peer-limit is a number, 'all' or 'auto'")
    return args


def load_devset(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise BenchError(
            f"{path} がありません / is missing: run python3 benchmarks/make_address_devset.py"
        )
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def stratified(items: list[dict[str, Any]], seed: int = 1) -> list[dict[str, Any]]:
    """The items in an order whose every prefix holds each category in proportion."""
    rng = random.Random(seed)
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_category[item["category"]].append(item)
    keyed: list[tuple[float, str, dict[str, Any]]] = []
    for category, members in sorted(by_category.items()):
        rng.shuffle(members)
        keyed += [((i + 0.5) / len(members), category, m) for i, m in enumerate(members)]
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [item for _, _, item in keyed]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYOS_")}
    env.update(COLUMNS="250", NO_COLOR="1", TERM="dumb", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def run_worker(
    ws: Workspace,
    python: str,
    side: str,
    items: list[dict[str, Any]],
    env: dict[str, str],
    *,
    extra: Iterable[str] = (),
    probe: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Start a worker, wait for it; its stats and its results (in its input order)."""
    tag = f"{side}{'-probe' if probe else ''}"
    inputs, results = ws.path / f"{tag}.in.jsonl", ws.path / f"{tag}.out.jsonl"
    with inputs.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps({"id": item["id"], "input": item["input"]}, ensure_ascii=False))
            out.write("\n")
    command = [python, str(Path(__file__).resolve()), "--worker", side, str(inputs), str(results)]
    command += [*extra, *(["--probe"] if probe else [])]
    spawned_at = time.time()
    # The worker's progress and any traceback go straight to our stderr.
    process = ws.spawn(command, env=env)
    if process.wait() != 0:
        raise BenchError(
            f"{side} worker failed (exit {process.returncode}); see its messages above"
        )
    stats = json.loads(results.with_suffix(".stats.json").read_text())
    stats["process_ready_s"] = stats["ready_at"] - spawned_at
    rows = []
    if not probe:
        with results.open(encoding="utf-8") as lines:
            rows = [json.loads(line) for line in lines]
    return stats, rows


def ours_in_process(ws: Workspace, args: argparse.Namespace, items: list[dict[str, Any]]) -> Side:
    python = args.python
    if not Path(python).is_file():
        raise BenchError(f"{python} がありません / is missing: run `make install` first")
    side = Side("cityos", "cityos.address.service.normalize", package_version(python, "cityos"))
    env = child_env(
        CITYOS_DATA_DIR=str(ws.path / "cityos-data"), CITYOS_CACHE_DIR=str(ws.path / "cache")
    )
    with step("cityos: cold start (empty index cache: the index is built)"):
        cold, _ = run_worker(ws, python, "ours", items[:1], env, probe=True)
    side.cold_startup_s = cold["startup_s"]
    with step(f"cityos: {len(items):,} addresses, in process"):
        stats, rows = run_worker(ws, python, "ours", items, env)
    fill(side, stats, rows)
    return side


def ours_via_cli(ws: Workspace, args: argparse.Namespace, items: list[dict[str, Any]]) -> Side:
    cityos = cityos_command(args.cityos)
    side = Side(
        "cityos",
        "cityos address normalize --input F --output F",
        package_version(args.python, "cityos"),
    )
    env = child_env(
        CITYOS_DATA_DIR=str(ws.path / "cityos-data"), CITYOS_CACHE_DIR=str(ws.path / "cache")
    )
    with step("cityos address build (cold: the index is built)"):
        built = ws.run_timed([*cityos, "address", "build"], env=env, name="cli-build")
    if built.returncode != 0:
        raise BenchError(f"cityos address build failed:\n{built.stdout}\n{built.stderr}")
    side.cold_startup_s = built.wall_s

    def run(lines: list[str], name: str) -> tuple[float, float, list[dict[str, Any]]]:
        source, target = ws.path / f"{name}.txt", ws.path / f"{name}.jsonl"
        # The CLI reads one address a line: line breaks inside an input become spaces.
        source.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        command = [*cityos, "address", "normalize", "--input", str(source)]
        timed = ws.run_timed([*command, "--output", str(target)], env=env, name=name)
        if timed.returncode != 0:
            raise BenchError(f"cityos address normalize failed:\n{timed.stdout}\n{timed.stderr}")
        with target.open(encoding="utf-8") as out:
            rows = [json.loads(line) for line in out]
        if len(rows) != len(lines):
            raise BenchError(f"cityos address normalize wrote {len(rows)} lines for {len(lines)}")
        return timed.wall_s, timed.cpu_s, rows

    with step("cityos address normalize: one address (start-up)"):
        side.startup_s, _, _ = run([WARM_UP], "cli-one")
    side.process_ready_s = side.startup_s
    lines = [re.sub(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]", " ", i["input"]) for i in items]
    side.limit_note = (
        f"{sum(1 for i, line in zip(items, lines, strict=True) if i['input'] != line)} inputs "
        "had their line breaks turned into spaces for the line-oriented CLI"
    )
    with step(f"cityos address normalize: {len(items):,} addresses"):
        side.wall_s, side.cpu_s, rows = run(lines, "cli-all")
    side.startup_in_wall = True
    for item, row in zip(items, rows, strict=True):
        side.got[item["id"]] = {k: row.get(k) for k in RESULT_KEYS}
    return side


def run_peer(ws: Workspace, args: argparse.Namespace, items: list[dict[str, Any]]) -> Side:
    python = args.bench_venv / "bin" / "python"
    if not python.is_file():
        raise BenchError(
            f"{python} がありません / is missing: run scripts/bench.sh once, or "
            f"`python3 -m venv {args.bench_venv} && {args.bench_venv}/bin/pip install {PEER_DIST}`"
        )
    side = Side(
        "peer",
        "normalize_japanese_address.normalize.normalize",
        package_version(str(python), PEER_DIST),
    )
    order = stratified(items)
    extra: list[str] = []
    if args.peer_limit == "auto":
        extra = ["--budget-s", str(PEER_BUDGET_S), "--sample", str(PEER_SAMPLE)]
    elif args.peer_limit != "all":
        order = order[: int(args.peer_limit)]
    with step(f"peer: up to {len(order):,} addresses (limit: {args.peer_limit})"):
        stats, rows = run_worker(ws, str(python), "peer", order, child_env(), extra=extra)
    fill(side, stats, rows)
    if stats["sampled"]:
        side.limit_note = (
            f"the whole set would take over {PEER_BUDGET_S / 60:.0f} min at the peer's pace: "
            f"it ran on a stratified sample of {side.n:,} addresses (--peer-limit all for every one)"
        )
    elif side.n < len(items):
        side.limit_note = f"stratified sample of {side.n:,} addresses (--peer-limit)"
    return side


def fill(side: Side, stats: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    side.startup_s = stats["startup_s"]
    side.process_ready_s = stats["process_ready_s"]
    side.wall_s, side.cpu_s, side.sampled = stats["wall_s"], stats["cpu_s"], stats["sampled"]
    for row in rows:
        side.got[row["id"]] = row["got"]
        if row["error"]:
            side.errors[row["id"]] = row["error"]


# --- comparing ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return None if value in ("", None) else value


def differing(expected: dict[str, Any], got: dict[str, Any] | None) -> list[str]:
    """The fields of ``got`` that are not the expected answer (all of them when it failed)."""
    if got is None:
        return list(FIELDS)
    wrong = [f for f in FIELDS[:4] if _plain(got.get(f)) != expected[f]]
    if (got.get("level") or 0) != expected["level"]:
        wrong.append("level")
    return wrong


@dataclass
class Tally:
    n: int = 0
    right: Counter[str] = field(default_factory=Counter)

    def add(self, wrong: list[str]) -> None:
        self.n += 1
        for f in FIELDS:
            self.right[f] += f not in wrong
        self.right["p+c+t"] += not {"pref", "city", "town"} & set(wrong)
        self.right["all"] += not wrong

    def share(self, f: str) -> float:
        return self.right[f] / self.n if self.n else 0.0


def tally(
    items: list[dict[str, Any]], side: Side | None
) -> tuple[dict[str, Tally], list[tuple[dict[str, Any], list[str]]]]:
    """Per-row tallies (all, each category, Mitaka) and the disagreements, in dev-set order."""
    rows: dict[str, Tally] = defaultdict(Tally)
    wrong_items: list[tuple[dict[str, Any], list[str]]] = []
    if side is None:
        return rows, wrong_items
    for item in items:
        if item["id"] not in side.got:
            continue
        wrong = differing(item["expected"], side.got[item["id"]])
        for row in ("all", item["category"]) + (
            (MITAKA_ROW,) if item["expected"]["city"] == "三鷹市" else ()
        ):
            rows[row].add(wrong)
        if wrong:
            wrong_items.append((item, wrong))
    return rows, wrong_items


# --- the report --------------------------------------------------------------------------------


def pct(value: float) -> str:
    return f"{100 * value:5.1f}"


def pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (kanji take two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 0)


COLUMNS = (*FIELDS, "p+c+t", "all")


def block(t: Tally | None) -> str:
    if t is None:
        return f"{'':>5}  " + "  ".join(f"{'-':>5}" for _ in COLUMNS)
    return f"{t.n:>5}  " + "  ".join(pct(t.share(f)) for f in COLUMNS)


def table(
    items: list[dict[str, Any]], ours: Side | None, peer: Side | None
) -> tuple[list[str], dict[str, Tally]]:
    ours_rows, _ = tally(items, ours)
    peer_rows, _ = tally(items, peer)
    names = ["all"] + [c for c in CATEGORY_ORDER if c in ours_rows or c in peer_rows]
    names += sorted(c for c in {*ours_rows, *peer_rows} if c not in names and c != MITAKA_ROW)
    names.append(MITAKA_ROW)
    if peer is not None and ours is not None and peer.n < ours.n:
        same_ids = set(peer.got)
        same, _ = tally([i for i in items if i["id"] in same_ids], ours)
        ours_rows[SAME_ROW] = same["all"]
        peer_rows[SAME_ROW] = peer_rows["all"]
        names.insert(1, SAME_ROW)
    head = f"{'n':>5}  " + "  ".join(f"{f:>5}" for f in COLUMNS)
    lines = [
        f"  {pad('', 18)} {pad('ours / cityos', len(head))} | peer / {PEER_DIST}",
        f"  {pad('category', 18)} {head} | {head}",
    ]
    for name in names:
        lines.append(
            f"  {pad(name, 18)} {block(ours_rows.get(name))} | {block(peer_rows.get(name))}"
        )
    return lines, ours_rows


def mark(ok: bool) -> str:
    return "OK / 達成" if ok else "BELOW GOAL / 未達"


def goal_lines(rows: dict[str, Tally], ours: Side, peer: Side | None) -> list[str]:
    well = rows.get("well_formed", Tally())
    lines = ["goals / 目標 (ours)"]
    for f in ("pref", "city", "town"):
        value = well.share(f)
        lines.append(
            f"  well_formed {f:<5} {100 * value:7.2f}%   (>= {100 * GOAL_AGREEMENT:.1f}%)  "
            f"{mark(value >= GOAL_AGREEMENT)}"
        )
    level = well.share("level")
    overall = rows["all"].share("level") if "all" in rows else 0.0
    lines.append(
        f"  well_formed level {100 * level:7.2f}%   (>= {100 * GOAL_LEVEL:.0f}%)    "
        f"{mark(level >= GOAL_LEVEL)}   (whole set: {100 * overall:.2f}%)"
    )
    rate = ours.rate_after_startup
    basis = "   (CLI wall minus its start-up)" if ours.startup_in_wall else ""
    lines.append(
        f"  throughput  {count(rate):>9}/s  (>= {count(GOAL_RATE)}/s)  {mark(rate >= GOAL_RATE)}"
        + basis
    )
    if peer is not None and peer.rate > 0:
        times = rate / peer.rate
        lines.append(
            f"  vs peer     {times:9.1f}x  (>= {GOAL_RATIO:.0f}x)     {mark(times >= GOAL_RATIO)}"
        )
    else:
        lines.append("  vs peer           n/a  (run without --ours-only for the ratio)")
    lines.append(
        f"  start-up    {ours.startup_s:8.2f} s  (< {GOAL_STARTUP_S:.0f} s)      "
        f"{mark(ours.startup_s < GOAL_STARTUP_S)}"
    )
    return lines


def side_line(side: Side, total: int) -> str:
    errors = f"; {len(side.errors):,} exceptions" + (" (counted wrong)" if side.errors else "")
    wall = "wall of the command, start-up included" if side.startup_in_wall else "wall"
    after = f", {count(side.rate_after_startup)}/s without start-up" if side.startup_in_wall else ""
    return (
        f"  {side.name:<6} {count(side.rate):>7} addresses/s  ({side.n:,} of {total:,} in "
        f"{side.wall_s:.1f} s {wall}, {side.cpu_s:.1f} s CPU{after}); "
        f"start-up {side.startup_s:.2f} s "
        f"(from process start {side.process_ready_s:.2f} s"
        + (f"; cold, empty index cache {side.cold_startup_s:.2f} s" if side.cold_startup_s else "")
        + f"){errors}"
    )


def short(text: str, width: int = 90) -> str:
    shown = json.dumps(text, ensure_ascii=False)[1:-1]
    return shown if len(shown) <= width else f"{shown[:width]}… ({len(text):,} chars)"


def answer(values: dict[str, Any] | None) -> str:
    if values is None:
        return "(exception)"
    return " | ".join(str(_plain(values.get(f)) if f != "level" else values.get(f)) for f in FIELDS)


def disagreement_lines(
    wrong: list[tuple[dict[str, Any], list[str]]], ours: Side, show: int
) -> list[str]:
    kinds = Counter((item["category"], "+".join(fields)) for item, fields in wrong)
    lines = [f"disagreements of ours / 不一致: {len(wrong):,} (most frequent kinds)"]
    lines += [
        f"  {n:>5}  {category:<16} {fields}" for (category, fields), n in kinds.most_common(12)
    ]
    lines.append(f"first {min(show, len(wrong))} / 最初の{min(show, len(wrong))}件:")
    for item, fields in wrong[:show]:
        lines += [
            f"  #{item['id']} [{item['category']}] {short(item['input'])}",
            f"      expected: {answer(item['expected'])}",
            f"      got:      {answer(ours.got[item['id']])}   (differs: {', '.join(fields)})",
        ]
    return lines


def write_disagreements(
    path: Path, wrong: list[tuple[dict[str, Any], list[str]]], ours: Side
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for item, fields in wrong:
            record = {
                "id": item["id"],
                "category": item["category"],
                "input": item["input"],
                "expected": item["expected"],
                "got": ours.got[item["id"]],
                "error": ours.errors.get(item["id"]),
                "differs": fields,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def report(
    args: argparse.Namespace, items: list[dict[str, Any]], ours: Side | None, peer: Side | None
) -> None:
    categories = Counter(item["category"] for item in items)
    versions = ", ".join(f"{s.name} {s.version}" for s in (ours, peer) if s)
    lines = [
        "",
        machine_line(),
        f"versions: {versions}; dev set: {args.devset.relative_to(ROOT) if args.devset.is_relative_to(ROOT) else args.devset} "
        f"({len(items):,} addresses, {len(categories)} categories)",
        "",
        "address quality / 住所正規化の品質: agreement with the expected answer, % "
        "(p+c+t: pref, city and town right; all: every field right)",
    ]
    rows_lines, ours_rows = table(items, ours, peer)
    lines += rows_lines
    lines += ["", "speed / 速度 (one process, one thread; addresses/s after start-up unless said)"]
    for side in (ours, peer):
        if side:
            lines.append(side_line(side, len(items)))
            lines.append(
                f"         how: {side.how}" + (f"; {side.limit_note}" if side.limit_note else "")
            )
    if peer is not None:
        lines.append(
            "  notes  the peer's `address` is split into its leading 番地-号 (addr) and the rest; "
            "its level stops at 3 (町丁目), so it never shows 8"
        )
    if ours is not None:
        lines += ["", *goal_lines(ours_rows, ours, peer)]
        _, wrong = tally(items, ours)
        path = args.out / "address_disagreements.jsonl"
        write_disagreements(path, wrong, ours)
        lines += ["", *disagreement_lines(wrong, ours, args.show)]
        lines.append(
            f"all disagreements of ours: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
        )
    print("\n".join(lines), flush=True)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        return worker_main(sys.argv[2:])
    args = parse_args()
    try:
        items = load_devset(args.devset)
        with Workspace(keep=args.keep, parent=args.tmpdir) as ws:
            ours = peer = None
            if not args.peer_only:
                ours = (ours_via_cli if args.via_cli else ours_in_process)(ws, args, items)
            if not args.ours_only:
                peer = run_peer(ws, args, items)
            report(args, items, ours, peer)
    except BenchError as exc:
        print(f"address benchmark failed / 失敗: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted / 中断しました (workers stopped, files removed)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
