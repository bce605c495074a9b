"""書かせない窓口: the print-ready A4 form of a submission, with a QR code for counter staff.

Japanese text uses reportlab's built-in CID fonts (HeiseiMin-W3, HeiseiKakuGo-W5): the PDF
viewer supplies the glyphs, so no font file is shipped or downloaded. The QR code is drawn
as vector squares from segno's matrix (no image library needed).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from cityos.core import text as jtext
from cityos.forms.models import STATUSES
from cityos.forms.service import Shown

MINCHO = "HeiseiMin-W3"
GOTHIC = "HeiseiKakuGo-W5"
_registered = False


def _fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(MINCHO))
        pdfmetrics.registerFont(UnicodeCIDFont(GOTHIC))
        _registered = True


def _lines(text: str, font: str, size: float, width: float) -> list[str]:
    """The text cut into lines that fit the width (Japanese breaks between any characters)."""
    lines, current = [], ""
    for char in text:
        if float(pdfmetrics.stringWidth(current + char, font, size)) > width:
            lines.append(current)
            current = char
        else:
            current += char
    return [*lines, current] if current or not lines else lines


def _qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    code = segno.make(url, error="m")
    matrix = [list(row) for row in code.matrix]
    cell = size / (len(matrix) + 8)  # a quiet zone of 4 modules around
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + (c + 4) * cell, y + size - (r + 5) * cell, cell, cell, stroke=0, fill=1
                )


def render(
    *,
    title_ja: str,
    title_en: str,
    department_ja: str,
    city_ja: str,
    number: int,
    filed_at: datetime,
    status: str,
    rows: Sequence[Shown],
    staff_url: str,
    note: str,
) -> bytes:
    """One A4 page (more when the form is long): title, boxes with the values, QR code."""
    _fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{title_ja} / {title_en}")
    canvas.setAuthor(city_ja)
    width, height = A4
    left, right = 18 * mm, width - 18 * mm
    local = jtext.to_local(filed_at)

    def header() -> float:
        canvas.setFont(MINCHO, 18)
        canvas.drawCentredString(width / 2, height - 25 * mm, title_ja)
        canvas.setFont(GOTHIC, 8)
        canvas.drawCentredString(width / 2, height - 31 * mm, title_en)
        canvas.setFont(MINCHO, 11)
        canvas.drawString(left, height - 42 * mm, f"{city_ja}長　殿（{department_ja}）")
        canvas.setFont(GOTHIC, 9)
        canvas.drawRightString(right, height - 40 * mm, f"受付番号 No. {number:06d}")
        filed = f"{jtext.to_wareki(local.date())} {local:%H:%M}"
        canvas.drawRightString(right, height - 45 * mm, f"提出日 {filed}")
        canvas.drawRightString(right, height - 50 * mm, f"状態 {STATUSES[status][0]}")
        top: float = height - 56 * mm
        return top

    label_width, size = 55 * mm, 10.5
    top = header()
    for row in rows:
        value_lines = _lines(row.value or "", MINCHO, size, right - left - label_width - 6 * mm)
        box = max(14 * mm, (len(value_lines) * 5 + 5) * mm)
        if top - box < 60 * mm:
            canvas.showPage()
            top = header()
        canvas.setLineWidth(0.8)
        canvas.rect(left, top - box, right - left, box)
        canvas.line(left + label_width, top, left + label_width, top - box)
        canvas.setFont(GOTHIC, 9.5)
        canvas.drawString(left + 2.5 * mm, top - 6 * mm, row.label_ja)
        canvas.setFont(GOTHIC, 6.5)
        canvas.drawString(left + 2.5 * mm, top - 10 * mm, row.label_en[:48])
        canvas.setFont(MINCHO, size)
        for i, line in enumerate(value_lines):
            canvas.drawString(left + label_width + 3 * mm, top - (6.5 + 5 * i) * mm, line)
        top -= box
    qr_size = 38 * mm
    _qr(canvas, staff_url, right - qr_size, 15 * mm, qr_size)
    canvas.setFont(GOTHIC, 8)
    canvas.drawRightString(
        right - qr_size - 3 * mm, 40 * mm, "窓口の職員がこのQRコードで申請を開きます。"
    )
    canvas.drawRightString(
        right - qr_size - 3 * mm, 35 * mm, "Counter staff open your application with this QR code."
    )
    canvas.rect(left, 15 * mm, 40 * mm, 18 * mm)
    canvas.drawString(left + 2 * mm, 29 * mm, "署名 / Signature")
    canvas.setFont(GOTHIC, 6.5)
    canvas.drawString(left, 10 * mm, note[:120])
    canvas.showPage()
    canvas.save()
    return out.getvalue()
