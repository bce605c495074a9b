"""FAQ open data as municipalities publish it: CSV in UTF-8 or Shift_JIS, headers in their words.

Cities name the same columns differently (質問 / 問い / Question, 担当課 / 担当部署 / 所管課 ...),
so the columns are chosen from the header and the choice is reported. A row that cannot be
read (no question, no answer, the wrong number of cells) is reported by its line number and
the other rows are kept.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from cityos.core import encodings
from cityos.core import text as jtext
from cityos.core.errors import ValidationProblem

FIELDS = ("faq_id", "question", "answer", "category", "department", "url", "updated")
FIELD_LABELS = {
    "faq_id": ("ID", "ID"),
    "question": ("質問", "question"),
    "answer": ("回答", "answer"),
    "category": ("カテゴリ", "category"),
    "department": ("担当課", "department"),
    "url": ("URL", "URL"),
    "updated": ("更新日", "updated"),
}
QUESTION_MAX = 1000
ANSWER_MAX = 10000
SHORT_MAX = 200
URL_MAX = 1000

# Header names per field: exact names first (after folding), then words a header may contain.
_EXACT: dict[str, tuple[str, ...]] = {
    "faq_id": ("id", "no", "no.", "番号", "項番", "連番", "faqid", "faq番号", "管理番号", "質問番号"),
    "question": ("質問", "問い", "問", "question", "q", "質問内容", "質問文", "よくある質問", "faq"),
    "answer": ("回答", "答え", "答", "answer", "a", "回答内容", "回答文"),
    "category": ("カテゴリ", "カテゴリー", "分類", "category", "分野", "ジャンル", "大分類", "種別"),
    "department": (
        "担当課", "担当部署", "担当", "所管課", "所管部署", "担当部局", "部署", "department",
        "問い合わせ先", "問合せ先", "お問い合わせ先", "担当課名", "section",
    ),
    "url": ("url", "リンク", "関連url", "参考url", "ホームページ", "link", "関連リンク", "詳細url"),
    "updated": (
        "更新日", "最終更新日", "更新日時", "更新年月日", "updated", "登録日", "作成日", "公開日",
        "掲載日", "日付", "date", "last updated",
    ),
}  # fmt: skip
_CONTAINS: dict[str, tuple[str, ...]] = {
    "faq_id": ("id", "番号"),
    "updated": ("更新", "日付", "年月日", "update", "date"),
    "question": ("質問", "問い", "question"),
    "answer": ("回答", "答え", "answer"),
    "category": ("カテゴリ", "分類", "category", "分野"),
    "department": ("担当", "所管", "部署", "課", "department"),
    "url": ("url", "リンク", "link"),
}
# Date columns first, so that 回答日 is read as a date and not as the answer.
_ORDER = ("faq_id", "updated", "url", "question", "answer", "category", "department")
_FOLD_HEADER = re.compile(r"[\s_()（）【】\[\]:：]")


@dataclass
class FaqEntry:
    faq_id: str
    question: str
    answer: str
    category: str = ""
    department: str = ""
    url: str = ""
    updated: date | str | None = None


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str


@dataclass
class FaqImport:
    entries: list[FaqEntry] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # our field -> the header chosen
    encoding: str = ""
    from_html: int = 0  # entries whose question or answer was HTML, read as plain text


# FAQ systems often export their answers as HTML (<p>, <br>, <a href>, &nbsp;): read as text,
# with its line breaks and the addresses of its links kept.
_HTML_TAG = re.compile(
    r"</?(?:a|b|br|div|em|font|h[1-6]|i|li|ol|p|span|strong|table|td|th|tr|u|ul)\b[^<>]{0,500}>"
    r"|&(?:nbsp|amp|lt|gt|quot|#\d{1,6}|#x[0-9a-f]{1,5});",
    re.IGNORECASE,
)
_BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"})


class _PlainText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[tuple[str, int]] = []  # (href, where its text starts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("・")
        if tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append((href, len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href, start = self.links.pop()
            shown = "".join(self.parts[start:])
            if href.startswith(("http://", "https://")) and href not in shown:
                self.parts.append(f"（{href}）")
        elif tag in _BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(raw: str) -> tuple[str, bool]:
    """``raw`` as plain text when it is HTML (tags dropped, line breaks kept, a link's address
    after its text, entities read), else as it is; and whether it was HTML."""
    if not _HTML_TAG.search(raw):
        return raw, False
    parser = _PlainText()
    parser.feed(raw.replace("\r\n", "\n").replace("\n", " "))
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    return re.sub(r"\n\s*\n+", "\n", text).strip(), True


def _fold(header: str) -> str:
    return _FOLD_HEADER.sub("", jtext.normalize(header).casefold())


def choose_columns(header: list[str]) -> dict[str, int]:
    """Our field -> the index of the header cell chosen for it (each cell used once)."""
    folded = [_fold(h) for h in header]
    chosen: dict[str, int] = {}
    for pass_exact in (True, False):
        for name in _ORDER:
            if name in chosen:
                continue
            for index, cell in enumerate(folded):
                if index in chosen.values() or not cell:
                    continue
                hit = (
                    cell in _EXACT[name]
                    if pass_exact
                    else any(word in cell for word in _CONTAINS[name])
                )
                if hit:
                    chosen[name] = index
                    break
    return chosen


def _decode(source: Path | bytes | str) -> tuple[str, str]:
    if isinstance(source, bytes):
        handle, name = tempfile.mkstemp(suffix=".csv")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(source)
            return _decode(Path(name))
        finally:
            Path(name).unlink(missing_ok=True)
    path = Path(source)
    encoding, _ambiguous = encodings.detect_encoding(path)
    return "".join(encodings.decoded_lines(path, encoding)), encoding


def _date(value: str) -> date | str | None:
    if not value:
        return None
    try:
        return jtext.parse_date(value)
    except ValueError:
        return value  # kept as written: an odd date does not make the entry unreadable


HEADER_SEARCH = 10  # rows above the header a file may have (a title, a note, a blank line)


def _delimiter(content: str) -> str:
    """A tab when the file's first lines are tab-separated (some "CSV" exports are), else a
    comma."""
    head = content[:4000].splitlines()[:HEADER_SEARCH]
    tabs = sum(line.count("\t") for line in head)
    return "\t" if tabs > sum(line.count(",") for line in head) else ","


def _header(reader: Any) -> tuple[list[str], dict[str, int]]:
    """The header (the first of the first rows that names a question and an answer column,
    so that a title line above it is skipped) and the columns chosen from it; the first row
    and no columns when none does."""
    first: list[str] | None = None
    for _ in range(HEADER_SEARCH):
        try:
            row = next(reader)
        except (StopIteration, csv.Error):
            break
        first = row if first is None else first
        chosen = choose_columns(row)
        if "question" in chosen and "answer" in chosen:
            return row, chosen
    return first or [], {}


def read_faq_csv(source: Path | bytes | str) -> FaqImport:
    """Read an FAQ CSV (a path or its bytes): entries, unreadable rows, the columns chosen."""
    content, encoding = _decode(source)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=_delimiter(content))
    header, chosen = _header(reader)
    if "question" not in chosen or "answer" not in chosen:
        found = ", ".join(h for h in header if h.strip()) or "（なし / none）"
        raise ValidationProblem(
            "質問と回答の列が見つかりません（見出し: "
            f"{found}）。見出しに「質問」「回答」などを入れてください / no question and answer "
            "columns in the header; name them 質問/問い/Question and 回答/答え/Answer",
            errors={"file": ["no question/answer columns"]},
        )
    result = FaqImport(
        columns={name: header[index].strip() for name, index in chosen.items()},
        encoding=encodings.ENCODING_LABELS.get(encoding, encoding),
    )
    seen: set[str] = set()
    line = reader.line_num + 1
    row_number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.problems.append(RowProblem(line, f"CSV の形が壊れています / broken CSV ({exc})"))
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not rows
        row_number += 1
        problem = _row_problem(row, header, chosen)
        if problem:
            result.problems.append(RowProblem(start, problem))
            continue
        question, html_question = plain_text(row[chosen["question"]])
        answer_raw, html_answer = plain_text(row[chosen["answer"]])
        if not question.strip() or not answer_raw.strip():
            ja, en = ("質問", "question") if not question.strip() else ("回答", "answer")
            result.problems.append(
                RowProblem(start, f"{ja}の HTML に文章がありません / the {en}'s HTML holds no text")
            )
            continue
        result.from_html += html_question or html_answer
        cells = {
            name: jtext.normalize(row[index]) if index < len(row) else ""
            for name, index in chosen.items()
        }
        cells["question"] = jtext.normalize(question)
        faq_id = cells.get("faq_id") or str(row_number)
        if faq_id in seen:
            result.problems.append(
                RowProblem(start, f"ID {faq_id} が重複しています / duplicate ID {faq_id}")
            )
            continue
        seen.add(faq_id)
        answer = _answer_text(answer_raw)
        result.entries.append(
            FaqEntry(
                faq_id=faq_id,
                question=cells["question"],
                answer=answer,
                category=cells.get("category", ""),
                department=cells.get("department", ""),
                url=cells.get("url", ""),
                updated=_date(cells.get("updated", "")),
            )
        )
    return result


def _answer_text(raw: str) -> str:
    """Answers keep their line breaks (lists, steps); other whitespace is tidied."""
    lines = [jtext.normalize(part) for part in raw.replace("\r\n", "\n").split("\n")]
    return "\n".join(part for part in lines if part)


def _row_problem(row: list[str], header: list[str], chosen: dict[str, int]) -> str:
    if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
        return (
            f"列が多すぎます（{len(row)} 列、見出しは {len(header)} 列） / "
            f"too many cells ({len(row)}, the header has {len(header)})"
        )
    needed = max(chosen["question"], chosen["answer"])
    if len(row) <= needed:
        return (
            f"列が足りません（{len(row)} 列、見出しは {len(header)} 列） / "
            f"too few cells ({len(row)}, the header has {len(header)})"
        )
    question = jtext.normalize(row[chosen["question"]])
    answer = row[chosen["answer"]].strip()
    if not question:
        return "質問が空です / the question is empty"
    if not answer:
        return "回答が空です / the answer is empty"
    if len(question) > QUESTION_MAX:
        return f"質問が {QUESTION_MAX} 文字を超えています / the question is over {QUESTION_MAX} characters"
    if len(answer) > ANSWER_MAX:
        return (
            f"回答が {ANSWER_MAX} 文字を超えています / the answer is over {ANSWER_MAX} characters"
        )
    if any("\x00" in cell for cell in row):
        return "使えない制御文字があります / contains a NUL character"
    url_index = chosen.get("url")
    if url_index is not None and url_index < len(row):
        url = row[url_index].strip()
        if url and not re.match(r"^(https?://|/)", url):
            return f"URL が http(s):// で始まっていません / the URL does not start with http(s)://: {url[:60]}"
    return ""
