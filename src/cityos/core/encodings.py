"""Which encoding a text file people upload is in: UTF-8 (with or without a BOM),
Shift_JIS (CP932) or EUC-JP, and refusing what is not text at all (Excel, PDF, images,
UTF-16) with a message that says what to do. Opendata's CSV ingest and the voice import
both read files through here; a bad line is reported by its number.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from pathlib import Path

from cityos.core.errors import UnsupportedMediaProblem, ValidationProblem

SAMPLE_BYTES = 1024 * 1024

ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "cp932": "Shift_JIS (CP932)"}
_ENCODING_ALIASES = {
    "utf8": "utf-8",
    "utf-8": "utf-8",
    "utf_8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf8-sig": "utf-8-sig",
    "utf-8-bom": "utf-8-sig",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "cp932": "cp932",
    "ms932": "cp932",
    "windows-31j": "cp932",
    "euc-jp": "euc_jp",
    "euc_jp": "euc_jp",
}

_MAGIC = [
    (b"PK\x03\x04", "ZIP（Excel の .xlsx など） / a ZIP archive such as an Excel .xlsx file"),
    (b"\xd0\xcf\x11\xe0", "Excel 97-2003（.xls） / an old Excel .xls file"),
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG 画像 / a PNG image"),
    (b"\xff\xd8\xff", "JPEG 画像 / a JPEG image"),
    (b"GIF8", "GIF 画像 / a GIF image"),
]


def canonical_encoding(name: str) -> str:
    key = name.strip().lower()
    if key not in _ENCODING_ALIASES:
        raise ValidationProblem(
            f"文字コード {name!r} には対応していません（UTF-8, Shift_JIS, EUC-JP） / "
            f"unsupported encoding {name!r}; use utf-8, shift_jis or euc-jp",
            errors={"encoding": ["unsupported"]},
        )
    return _ENCODING_ALIASES[key]


def detect_encoding(path: Path, declared: str | None = None) -> tuple[str, bool]:
    """The file's encoding and whether the guess was ambiguous; rejects non-text files."""
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head:
        raise ValidationProblem("ファイルが空です / the file is empty", errors={"file": ["empty"]})
    for magic, label in _MAGIC:
        if head.startswith(magic):
            raise UnsupportedMediaProblem(
                f"CSV ではなく {label} のファイルです。CSV で保存し直してください / "
                "this is not a CSV file; save it as CSV and upload again",
                errors={"file": ["not a CSV"]},
            )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnsupportedMediaProblem(
            "UTF-16 のファイルには対応していません。UTF-8 か Shift_JIS で保存してください / "
            "UTF-16 files are not supported; save as UTF-8 or Shift_JIS",
            errors={"file": ["utf-16"]},
        )
    if b"\x00" in head[:65536] or _control_ratio(head[:65536]) > 0.05:
        raise UnsupportedMediaProblem(
            "テキストではない（バイナリの）ファイルです / this is a binary file, not a CSV",
            errors={"file": ["binary"]},
        )
    if declared:
        return canonical_encoding(declared), False
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", False
    sample = _complete_lines(head, len(head) == path.stat().st_size)
    utf8_ok = _decodes(sample, "utf-8")
    sjis_ok = _decodes(sample, "cp932")
    if utf8_ok:
        ambiguous = sjis_ok and not sample.isascii()
        return "utf-8", ambiguous
    if sjis_ok:
        return "cp932", False
    if _decodes(sample, "euc_jp"):
        return "euc_jp", False
    line = _first_bad_line(sample, "utf-8")
    raise ValidationProblem(
        f"{line}行目が UTF-8 としても Shift_JIS としても読めません（文字コードが混在しているか、"
        f"壊れています） / line {line} is neither UTF-8 nor Shift_JIS (mixed or broken encoding)",
        errors={"file": [f"line {line}: undecodable"]},
    )


def _control_ratio(data: bytes) -> float:
    if not data:
        return 0.0
    controls = sum(1 for b in data if b < 32 and b not in (9, 10, 13))
    return controls / len(data)


def _complete_lines(head: bytes, whole_file: bool) -> bytes:
    if whole_file:
        return head
    cut = head.rfind(b"\n")
    return head[: cut + 1] if cut > 0 else head


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _first_bad_line(data: bytes, encoding: str) -> int:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1
    return 1


Progress = Callable[[int, int], None]  # (bytes read, bytes in all)


def decoded_lines(path: Path, encoding: str, progress: Progress | None = None) -> Iterator[str]:
    """The file's lines, decoded one by one so that a bad line is reported by number."""
    line_encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if progress is not None:
                done += len(raw)
                if number % 20000 == 0:
                    progress(done, total)
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[3:]
            try:
                yield raw.decode(line_encoding)
            except UnicodeDecodeError:
                label = ENCODING_LABELS.get(encoding, encoding)
                raise ValidationProblem(
                    f"{number}行目が {label} として読めません。文字コードが混在しています / "
                    f"line {number} is not valid {label}: the file mixes encodings",
                    errors={"file": [f"line {number}: not {label}"]},
                ) from None
    if progress is not None:
        progress(total, total)
