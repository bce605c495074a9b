"""Analysis of many citizens' texts end to end, the way the city runs it: seconds and peak
memory of `cityos voice analyze --input texts.jsonl --output analyzed.jsonl` on 100,000 texts
(sentiment of each, topics over the whole batch), next to the peer, oseti (dictionary-based
Japanese sentiment on MeCab), timed on a sample of the same texts in the same run.

    .venv/bin/python benchmarks/voice_scale.py --peer-python .venv-bench/bin/python
    .venv/bin/python benchmarks/voice_scale.py --count 20000          # a quicker look

The texts are made from the development set's sentences (tests/data/voice/dev.jsonl, never the
holdout), recombined with a fixed seed so that no two are alike: one to three sentences each,
so their lengths spread as the city's texts do. Peak memory is the child's maximum resident
set size (getrusage RUSAGE_CHILDREN), read after the command ends; the command's Python
heap peak is not the whole story (Sudachi's dictionary is mapped memory). oseti only scores
sentiment (no topics): its rate is per text on the sample, and our rate on the same sample
is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT / "tests" / "data" / "voice" / "dev.jsonl"
SEED = 20261126

PEER_SCRIPT = """
import json, sys, time
import ipadic, oseti
analyzer = oseti.Analyzer(mecab_args="-r /dev/null " + ipadic.MECAB_ARGS)
texts = [json.loads(line)["text"] for line in sys.stdin]
started = time.perf_counter()
for text in texts:
    scores = analyzer.analyze(text) or [0.0]
print(json.dumps({"texts": len(texts), "seconds": time.perf_counter() - started}))
"""


def sentences() -> list[str]:
    found: list[str] = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        found += [part for part in re.split(r"(?<=[。!?！？])", text) if part.strip()]
    return found


def make_texts(count: int) -> list[dict[str, str]]:
    pool = sentences()
    rng = random.Random(SEED)
    towns = ["下連雀", "上連雀", "井の頭", "野崎", "大沢", "深大寺", "新川", "中原", ""]
    texts = []
    for number in range(count):
        parts = rng.sample(pool, rng.choice((1, 1, 2, 2, 3)))
        texts.append({"id": f"t{number}", "text": "".join(parts), "town": rng.choice(towns)})
    return texts


def cityos_command() -> list[str]:
    local = ROOT / ".venv" / "bin" / "cityos"
    return [str(local)] if local.exists() else [sys.executable, "-m", "cityos"]


def run_ours(path: Path, out: Path) -> tuple[float, float]:
    """Seconds and peak resident memory (MiB) of the CLI on ``path``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [*cityos_command(), "voice", "analyze", "--input", str(path), "--output", str(out)],
        capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"cityos voice analyze failed: {done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


def run_peer(python: str | None, sample: Path) -> str:
    if not python:
        return "not run (give --peer-python, a venv with oseti and ipadic)"
    with sample.open("rb") as stdin:
        done = subprocess.run(
            [python, "-c", PEER_SCRIPT], stdin=stdin, capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    found = json.loads(done.stdout)
    rate = found["texts"] / found["seconds"]
    return f"{rate:,.0f} texts/s (sentiment only, {found['texts']:,} texts, model loaded first)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=100_000, help="texts to analyse")
    parser.add_argument("--sample", type=int, default=2_000, help="texts for the peer's rate")
    parser.add_argument("--peer-python", help="a Python with oseti and ipadic installed")
    args = parser.parse_args()
    texts = make_texts(args.count)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        big, out = work / "texts.jsonl", work / "analyzed.jsonl"
        big.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in texts))
        sample = work / "sample.jsonl"
        sample.write_text(
            "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in texts[: args.sample])
        )
        print(
            f"== voice analysis at scale: {args.count:,} texts ({big.stat().st_size / 1e6:.1f} MB)"
        )
        seconds, peak = run_ours(big, out)
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        topics = len({row["topic"] for row in rows})
        print(
            f"  ours   {seconds:,.1f} s end to end ({args.count / seconds:,.0f} texts/s, process "
            f"start and topics included), peak memory {peak:,.0f} MiB; {len(rows):,} lines "
            f"written, {topics} topics"
        )
        small_seconds, _small_peak = run_ours(sample, work / "sample_out.jsonl")
        print(
            f"  ours on the {args.sample:,}-text sample: {args.sample / small_seconds:,.0f} texts/s"
            " end to end (process start included)"
        )
        print(f"  oseti  {run_peer(args.peer_python, sample)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
