import subprocess
import sys
from pathlib import Path

import pytest

from cityos.voice import analysis

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("図書館の職員さんがとても親切で、本当に助かりました。ありがとうございます。", "positive"),
        ("駅前の駐輪場がいつも満車で本当に困っています。何とかしてください。", "negative"),
        ("粗大ごみの申し込み方法を教えてください。", "neutral"),
        ("新しくできたコミュニティセンター、正直悪くなかった", "positive"),
        ("さすが三鷹市、今月三回目の断水（笑）", "negative"),
        ("The new bus route is really convenient, thank you!", "positive"),
        ("この説明で満足できる市民がいるとは思えません。", "negative"),
    ],
)
def test_clear_cases_get_the_sentiment_a_reader_would_give(written: str, expected: str) -> None:
    result = analysis.sentiment_of(written)
    assert result.sentiment == expected
    if expected == "positive":
        assert result.score > 0
    elif expected == "negative":
        assert result.score < 0


def test_score_stays_between_minus_one_and_one() -> None:
    for written in ("最高！！！最高！！！", "最悪。本当にひどい。怒りしかない", "三鷹"):
        assert -1.0 <= analysis.sentiment_of(written).score <= 1.0


def test_training_again_gives_the_shipped_model_byte_for_byte(tmp_path: Path) -> None:
    rebuilt = tmp_path / analysis.MODEL_FILE
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_voice_model.py"), "--output", str(rebuilt)],
        check=True,
        capture_output=True,
    )
    shipped = ROOT / "src" / "cityos" / "voice" / "data" / analysis.MODEL_FILE
    assert rebuilt.read_bytes() == shipped.read_bytes()
