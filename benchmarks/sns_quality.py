"""Quality of SNS triage on the labelled sets: per-class precision/recall/F1, macro-F1,
rescue_request recall, urgency accuracy, hazard accuracy and town accuracy.

It runs exactly what the city runs: a fresh data folder, `cityos demo`, then
`cityos sns triage --input SET --output OUT`, and compares OUT with the labels.

    .venv/bin/python benchmarks/sns_quality.py                       # dev and holdout sets
    .venv/bin/python benchmarks/sns_quality.py --set tests/data/sns/dev.jsonl --errors 30

Goals set by the city: macro-F1 >= 0.85, rescue_request recall >= 0.95, town accuracy >= 0.90.
The category model is trained on the development set (scripts/train_sns_model.py); the
holdout set was written apart from it and is never trained on: its figures are the ones
that say how the triage generalizes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from cityos.sns.triage import CATEGORIES

ROOT = Path(__file__).resolve().parents[1]
SETS = [ROOT / "tests/data/sns/dev.jsonl", ROOT / "tests/data/sns/holdout.jsonl"]


def cityos_command() -> list[str]:
    local = ROOT / ".venv" / "bin" / "cityos"
    return [str(local)] if local.exists() else [sys.executable, "-m", "cityos"]


def run_triage(sets: list[Path], workdir: Path) -> dict[Path, Path]:
    env = {**os.environ, "CITYOS_DATA_DIR": str(workdir / "var")}
    env.pop("CITYOS_DATABASE_URL", None)
    subprocess.run([*cityos_command(), "demo"], env=env, check=True, capture_output=True)
    outputs = {}
    for labelled in sets:
        out = workdir / f"{labelled.stem}.triaged.jsonl"
        done = subprocess.run(
            [*cityos_command(), "sns", "triage", "--input", str(labelled), "--output", str(out)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"triage failed on {labelled}: {done.stderr}")
        outputs[labelled] = out
    return outputs


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def report(labelled: Path, triaged: Path, errors: int) -> list[str]:
    gold = {str(row["id"]): row["labels"] for row in read_jsonl(labelled)}
    got = {str(row["id"]): row for row in read_jsonl(triaged)}
    ids = [i for i in gold if i in got]
    pairs = [(gold[i]["category"], got[i]["category"]) for i in ids]  # type: ignore[index]
    lines = [f"== {labelled.relative_to(ROOT)}: {len(ids)} posts (of {len(gold)})"]
    if labelled.name == "dev.jsonl":
        lines.append(
            "  (the category model is trained on this set: its figures show the fit, not how "
            "the triage generalizes; see the holdout set)"
        )
    lines.append(f"  {'category':<20} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
    f1s = []
    for name in CATEGORIES:
        tp = sum(1 for g, p in pairs if g == name and p == name)
        fp = sum(1 for g, p in pairs if g != name and p == name)
        fn = sum(1 for g, p in pairs if g == name and p != name)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        lines.append(f"  {name:<20} {precision:>9.3f} {recall:>7.3f} {f1:>6.3f} {tp + fn:>8}")
    macro = sum(f1s) / len(f1s)
    rescue = [(g, p) for g, p in pairs if g == "rescue_request"]
    rescue_recall = sum(1 for _g, p in rescue if p == "rescue_request") / max(1, len(rescue))

    def accuracy(field: str) -> float:
        hits = sum(1 for i in ids if gold[i][field] == got[i][field])  # type: ignore[index]
        return hits / max(1, len(ids))

    def town_base(value: object) -> object:
        return (
            value.split("丁目")[0].rstrip("一二三四五六七八九") if isinstance(value, str) else value
        )

    town_base_hits = sum(
        1
        for i in ids
        if town_base(gold[i]["town"]) == town_base(got[i]["town"])  # type: ignore[index]
    )
    goal = lambda ok: "OK / 達成" if ok else "BELOW GOAL / 未達"  # noqa: E731
    lines += [
        f"  macro-F1               {macro:.3f}   (goal >= 0.85)  {goal(macro >= 0.85)}",
        f"  rescue_request recall  {rescue_recall:.3f}   (goal >= 0.95)  {goal(rescue_recall >= 0.95)}",
        f"  urgency accuracy       {accuracy('urgency'):.3f}",
        f"  hazard accuracy        {accuracy('hazard'):.3f}",
        f"  town accuracy          {accuracy('town'):.3f}   (goal >= 0.90)  {goal(accuracy('town') >= 0.90)}"
        f"   (町 without 丁目: {town_base_hits / max(1, len(ids)):.3f})",
    ]
    confusion = Counter(pairs)
    wrong = [(g, p, n) for (g, p), n in confusion.most_common() if g != p][:8]
    if wrong:
        lines.append("  most confused: " + "; ".join(f"{g} → {p} ×{n}" for g, p, n in wrong))
    if errors:
        shown = 0
        for i in ids:
            labels, row = gold[i], got[i]
            fields = ("category", "urgency", "town")
            if all(labels[f] == row[f] for f in fields):  # type: ignore[index]
                continue
            diff = ", ".join(
                f"{f} {labels[f]}→{row[f]}"  # type: ignore[index]
                for f in fields
                if labels[f] != row[f]  # type: ignore[index]
            )
            lines.append(f"    {i}: {diff} | {str(row['text'])[:90]!r}")
            shown += 1
            if shown >= errors:
                break
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--set", type=Path, action="append", help="a labelled JSONL set")
    parser.add_argument("--errors", type=int, default=0, help="list this many mistakes per set")
    args = parser.parse_args()
    sets = [p.resolve() for p in args.set] if args.set else [p for p in SETS if p.exists()]
    if not sets:
        print("no labelled sets found", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        outputs = run_triage(sets, Path(tmp))
        for labelled in sets:
            print("\n".join(report(labelled, outputs[labelled], args.errors)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
