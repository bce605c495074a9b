"""Reading FAQ open data: encodings, the columns chosen from the header, unreadable rows."""

from __future__ import annotations

from datetime import date

import pytest

from cityos.chatbot.service import read_faq_csv
from cityos.core.errors import ProblemError
from tests.chatbot.conftest import SMALL_FAQ


def test_the_small_faq_reads_with_every_column_chosen() -> None:
    imported = read_faq_csv(SMALL_FAQ)
    assert len(imported.entries) == 12
    assert imported.problems == []
    assert imported.columns == {
        "faq_id": "ID", "question": "質問", "answer": "回答", "category": "カテゴリ",
        "department": "担当課", "url": "URL", "updated": "更新日",
    }  # fmt: skip
    first = imported.entries[0]
    assert first.faq_id == "T001"
    assert first.updated == date(2025, 4, 1)
    assert first.department == "ごみ対策課"


def test_shift_jis_with_other_header_words_and_no_id_uses_row_numbers() -> None:
    csv_text = (
        "分類,問い,答え,担当部署,最終更新日\r\n"
        "税,住民税の納付方法は？,口座振替、コンビニ、スマホ決済で納付できます。,市民税課,令和6年4月1日\r\n"
        "\r\n"
        "健康,健診はいつですか,6月から11月です。,健康推進課,R6.5.1\r\n"
    )
    imported = read_faq_csv(csv_text.encode("cp932"))
    assert imported.encoding == "Shift_JIS (CP932)"
    assert imported.columns == {
        "updated": "最終更新日", "question": "問い", "answer": "答え",
        "category": "分類", "department": "担当部署",
    }  # fmt: skip
    assert [e.faq_id for e in imported.entries] == ["1", "2"]
    assert imported.entries[0].updated == date(2024, 4, 1)


def test_utf8_bom_and_english_headers() -> None:
    data = "\ufeffNo,Question,Answer,Category\n7,Where is city hall?,Nozaki 1-1-1.,Office\n"
    imported = read_faq_csv(data.encode("utf-8"))
    assert imported.columns["faq_id"] == "No"
    assert imported.entries[0].faq_id == "7"
    assert imported.entries[0].question == "Where is city hall?"


def test_malformed_rows_are_reported_by_line_and_the_rest_kept() -> None:
    data = (
        "ID,質問,回答\n"
        "A1,ごみの日は？,週2回です。\n"
        "A2,回答のない質問,\n"
        "A3,列が,多すぎる,行です,ほんとうに\n"
        "A4\n"
        '"A5","複数行の\n質問","答え\n二行目"\n'
        "A1,同じID,重複です。\n"
        "A6,リンク,答え,javascript:alert(1)\n"
    )
    imported = read_faq_csv(data.encode())
    assert [e.faq_id for e in imported.entries] == ["A1", "A5"]
    assert imported.entries[1].answer == "答え\n二行目"
    lines = {p.line: p.reason for p in imported.problems}
    # The A5 record spans lines 6 to 8: the lines after it keep their own numbers.
    assert set(lines) == {3, 4, 5, 9, 10}
    assert "回答が空" in lines[3]
    assert "answer is empty" in lines[3]
    assert "列が多すぎます" in lines[4]
    assert "列が足りません" in lines[5]
    assert "重複" in lines[9]
    assert "列が多すぎます" in lines[10]


def test_a_file_without_question_and_answer_columns_is_refused_clearly() -> None:
    with pytest.raises(ProblemError) as refused:
        read_faq_csv("名前,住所\n三鷹,野崎\n".encode())
    assert refused.value.status == 422
    assert "質問と回答の列が見つかりません" in refused.value.detail
    assert "no question and answer columns" in refused.value.detail


def test_an_excel_file_is_refused_as_not_csv() -> None:
    with pytest.raises(ProblemError) as refused:
        read_faq_csv(b"PK\x03\x04rest-of-a-zip")
    assert refused.value.status == 415


def test_a_title_above_the_header_and_tab_separated_files_are_read() -> None:
    titled = (
        "三鷹市 よくある質問 一覧,,\r\n"
        "令和6年4月1日現在,,\r\n"
        ",,\r\n"
        "番号,質問内容,回答内容\r\n"
        "1,ごみの日は？,週2回です。\r\n"
    )
    imported = read_faq_csv(titled.encode("cp932"))
    assert imported.columns == {"faq_id": "番号", "question": "質問内容", "answer": "回答内容"}
    assert [(e.faq_id, e.question) for e in imported.entries] == [("1", "ごみの日は?")]
    assert imported.problems == []
    # The lines keep their numbers in the file: the title lines are counted.
    broken = read_faq_csv((titled + "2,回答のない質問,\r\n").encode("cp932"))
    assert [p.line for p in broken.problems] == [6]

    tabbed = "ID\t質問\t回答\tURL\nQ1\t住民票は、どこで取れますか\t市民課です。\t/jumin\n"
    imported = read_faq_csv(tabbed.encode())
    assert imported.columns["url"] == "URL"
    assert imported.entries[0].question == "住民票は、どこで取れますか"  # the comma stays
    assert imported.entries[0].url == "/jumin"


def test_html_answers_from_faq_systems_are_read_as_text_with_breaks_and_links() -> None:
    exported = (
        "ID,質問,回答\r\n"
        '1,<p>粗大ごみの出し方は？</p>,"<p>粗大ごみは<strong>事前申込制</strong>です。</p>'
        '<p>詳しくは<a href=""https://www.city.mitaka.lg.jp/sodai.html"">こちら</a>。</p>"\r\n'
        "2,窓口の時間は？,平日&nbsp;8時30分から17時<br />土日は休み\r\n"
        '3,持ち物は？,"<ul><li>本人確認書類</li><li>印鑑</li></ul>"\r\n'
        "4,5 < 6 ですか,はい & いいえ\r\n"  # not HTML: kept as written
        "5,空の回答,<p></p>\r\n"
    )
    imported = read_faq_csv(exported.encode())
    answers = {e.faq_id: e.answer for e in imported.entries}
    assert imported.entries[0].question == "粗大ごみの出し方は?"
    assert answers["1"] == (
        "粗大ごみは事前申込制です。\n詳しくはこちら(https://www.city.mitaka.lg.jp/sodai.html)。"
    )
    assert answers["2"] == "平日 8時30分から17時\n土日は休み"
    assert answers["3"] == "・本人確認書類\n・印鑑"
    assert answers["4"] == "はい & いいえ"
    assert imported.from_html == 3
    [empty] = imported.problems
    assert empty.line == 6
    assert "HTML" in empty.reason
