"""SNS triage throughput on one core: `cityos sns triage` end to end on 100,000 posts, against
the GiNZA pipeline (`ja-ginza` from PyPI) merely parsing the same posts.

Both run pinned to one CPU (`taskset -c 0`) in their own interpreters. Ours: a fresh data
folder with the demo loaded (not timed), then the whole command — reading the JSON lines,
checking them, grouping copies, triage with explanations, writing the output — timed from
start to end, and again on one post to take the start-up out. The peer: `spacy.load("ja_ginza")`
(not timed), then `nlp.pipe` over a sample of the same texts (`--peer-posts`, default 2,000:
at GiNZA's speed the whole 100,000 would take about half an hour), reported per post.

The posts are the labelled sets' texts, cycled to `--posts` with a running number appended so
that no two are copies (copies would be triaged once and flatter our figure).

    .venv/bin/python benchmarks/sns_speed.py [--posts 100000] [--peer-posts 2000]
        [--peer-python .venv-bench/bin/python]

Goal set by the city: >= 5,000 posts/s and >= 50x GiNZA in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = [ROOT / "tests/data/sns/dev.jsonl", ROOT / "tests/data/sns/holdout.jsonl"]
PEER = r"""
import json, sys, time
import spacy
nlp = spacy.load("ja_ginza")
texts = [json.loads(line)["text"] for line in open(sys.argv[1], encoding="utf-8")]
start = time.perf_counter()
found = 0
for doc in nlp.pipe(texts, batch_size=64):
    found += sum(1 for ent in doc.ents)
elapsed = time.perf_counter() - start
probe = nlp("三鷹市大沢2丁目で冠水しています")
print(json.dumps({"seconds": elapsed, "posts": len(texts), "entities": found,
                  "probe": [(e.text, e.label_) for e in probe.ents],
                  "version": "spaCy " + spacy.__version__ + " + ja_ginza " + spacy.util.get_package_version("ja_ginza")}))
"""


def texts() -> list[str]:
    found = []
    for path in SETS:
        if path.exists():
            found += [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()]
    if not found:
        raise SystemExit("no labelled posts under tests/data/sns/")
    return found


def write_posts(path: Path, count: int, source: list[str]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            written = f"{source[i % len(source)]} ({i})"
            row = {"id": f"b{i}", "text": written, "created_at": "2026-09-14T10:00:00+09:00"}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def pinned(command: list[str]) -> list[str]:
    return ["taskset", "-c", "0", *command] if shutil.which("taskset") else command


def cityos() -> list[str]:
    local = ROOT / ".venv" / "bin" / "cityos"
    return [str(local)] if local.exists() else [sys.executable, "-m", "cityos"]


def time_triage(env: dict[str, str], source: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        pinned([*cityos(), "sns", "triage", "--input", str(source), "--output", str(out)]),
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--peer-posts", type=int, default=2_000)
    parser.add_argument("--peer-python", default=str(ROOT / ".venv-bench" / "bin" / "python"))
    args = parser.parse_args()
    source = texts()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "CITYOS_DATA_DIR": str(work / "var")}
        env.pop("CITYOS_DATABASE_URL", None)
        print("... cityos demo (not timed)", file=sys.stderr)
        subprocess.run([*cityos(), "demo"], env=env, check=True, capture_output=True)
        posts, one, sample = work / "posts.jsonl", work / "one.jsonl", work / "sample.jsonl"
        write_posts(posts, args.posts, source)
        write_posts(one, 1, source)
        write_posts(sample, args.peer_posts, source)
        print(f"... ours: cityos sns triage on {args.posts:,} posts", file=sys.stderr)
        startup = min(time_triage(env, one, work / "o1.jsonl") for _ in range(3))
        total = time_triage(env, posts, work / "out.jsonl")
        lines = sum(1 for _ in (work / "out.jsonl").open("rb"))
        if lines != args.posts:
            raise SystemExit(f"ours wrote {lines} lines for {args.posts} posts")
        ours_rate = args.posts / max(1e-9, total - startup)
        print(f"... peer: GiNZA on {args.peer_posts:,} of the same posts", file=sys.stderr)
        if not Path(args.peer_python).exists():
            raise SystemExit(
                f"{args.peer_python} is missing: scripts/bench.sh installs ginza into .venv-bench"
            )
        script = work / "peer.py"
        script.write_text(PEER, encoding="utf-8")
        done = subprocess.run(
            pinned([args.peer_python, str(script), str(sample)]),
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        peer = json.loads(done.stdout.strip().splitlines()[-1])
    peer_rate = peer["posts"] / peer["seconds"]
    cpu = platform.processor() or platform.machine()
    print(
        f"machine: {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}; both pinned to one core"
    )
    print(f"sns triage speed: {args.posts:,} posts (the labelled texts cycled, each made unique)")
    print(
        f"  ours   cityos sns triage, end to end       {ours_rate:>10,.0f} posts/s  "
        f"({total:.1f} s in all, {startup:.1f} s of it start-up)"
    )
    print(
        f"  peer   {peer['version']} nlp.pipe only  {peer_rate:>10,.1f} posts/s  "
        f"({peer['posts']:,} posts in {peer['seconds']:.1f} s)"
    )
    ratio = ours_rate / peer_rate
    ok = ours_rate >= 5000 and ratio >= 50
    print(
        f"  ratio  {ratio:,.0f}x   goal >= 5,000 posts/s and >= 50x: {'OK / 達成' if ok else 'BELOW GOAL / 未達'}"
    )
    print(f"  note   GiNZA's entities in 「三鷹市大沢2丁目で冠水しています」: {peer['probe']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
