"""Spreadsheets staff open in Excel: BOM, two header rows, no formulas, Japan time."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from cityos.core.csvexport import excel_csv, safe_cell


def test_sheet_opens_in_excel_with_japanese_headers_and_japan_time() -> None:
    data = excel_csv(
        ("id", "when", "text"),
        ("番号", "日時", "本文"),
        [(1, datetime(2026, 11, 26, 1, 5, tzinfo=UTC), "冠水\n大沢4丁目")],
    )
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["id", "when", "text"],
        ["番号", "日時", "本文"],
        ["1", "2026-11-26 10:05", "冠水 大沢4丁目"],
    ]
    assert b"\r\n" in data


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1+2", "-1+cmd", "@SUM(A1)", "\t=1"])
def test_text_that_would_be_a_formula_is_shown_as_text(cell: str) -> None:
    assert str(safe_cell(cell)).startswith("'")


def test_numbers_and_empty_cells_stay_as_they_are() -> None:
    assert safe_cell(-3) == -3
    assert safe_cell(None) == ""
    assert safe_cell("大沢") == "大沢"


def test_headers_must_match_fields() -> None:
    with pytest.raises(ValueError, match="one Japanese header"):
        excel_csv(("a", "b"), ("甲",), [])
