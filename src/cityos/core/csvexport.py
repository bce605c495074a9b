"""CSV for people who open it in Excel: UTF-8 with a BOM, CRLF, a row of field names and a
row of Japanese headers, and cells that cannot turn into formulas.

Every domain that hands staff a spreadsheet (the SNS queue for the fire service, report counts,
opinions) writes it through here, so the same safety rules hold everywhere.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from cityos.core import text

# A cell starting with one of these is a formula (or DDE) in Excel and LibreOffice.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell value Excel shows as written: free text on one line, never a formula.

    Numbers pass through untouched (a negative number is not a formula); text that would
    start a formula gets a leading apostrophe, as Excel users type it themselves.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return local_time(value)
    flat = re.sub(r"\s+", " ", str(value)).strip()
    return "'" + flat if flat.startswith(_FORMULA_START) else flat


def local_time(moment: datetime) -> str:
    """Japan time to the minute, the way staff read times in a sheet."""
    return text.to_local(moment).strftime("%Y-%m-%d %H:%M")


def excel_csv(
    fields: Sequence[str], headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> bytes:
    """The whole sheet: field names, Japanese headers, then the rows through ``safe_cell``."""
    if len(fields) != len(headers):
        raise ValueError("one Japanese header per field")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return "\ufeff".encode() + out.getvalue().encode()
