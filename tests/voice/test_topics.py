from cityos.core import tokens
from cityos.voice import topics

NURSERY = [
    "保育園の待機児童が減らず、入園できるか不安です。",
    "四月から保育園に入園できなかった。待機児童ってまだいるのか",
    "保育園の入園申請の締め切りはいつですか。",
    "認可保育園の入園選考の点数について教えてください。",
    "待機児童対策として保育園を増やしてほしいです。",
    "上の子と同じ保育園に入園できて安心しました。",
]
GARBAGE = [
    "ごみ収集の日が変わったのを知らずに出してしまった。",
    "粗大ごみの収集を申し込みたいのですが、ごみ袋は必要ですか。",
    "うちの集積所のごみ収集、いつも丁寧でありがたい。",
    "カラスがごみ集積所を荒らしていて収集前に散らかります。",
    "プラスチックごみの分別と収集日を教えてください。",
    "年末のごみ収集の日程はどこで確認できますか。",
]


def test_nursery_and_garbage_texts_end_in_different_topics_labelled_by_their_words() -> None:
    found = topics.find_topics([tokens.words(t) for t in NURSERY + GARBAGE])
    nursery, garbage = set(found[: len(NURSERY)]), set(found[len(NURSERY) :])
    assert len(nursery) == 1
    assert len(garbage) == 1
    assert nursery != garbage
    assert "保育園" in next(iter(nursery)) or "入園" in next(iter(nursery))
    assert "ごみ" in next(iter(garbage)) or "収集" in next(iter(garbage))


def test_the_same_batch_gives_the_same_topics() -> None:
    batch = [tokens.words(t) for t in GARBAGE + NURSERY]
    assert topics.find_topics(batch) == topics.find_topics(batch)


def test_a_text_without_content_words_is_other() -> None:
    found = topics.find_topics([tokens.words("!!!"), *(tokens.words(t) for t in NURSERY)])
    assert found[0] == topics.NO_TOPIC


def test_spelling_variants_of_a_word_are_one_word_and_the_label_shows_the_common_form() -> None:
    texts = [
        "ゴミの収集日が分かりにくい",
        "ごみの収集日を増やしてほしい",
        "ごみの収集が遅れています",
        "保育園の入園について知りたい",
        "保育園の入園手続きが難しい",
        "保育園の入園の結果はいつですか",
    ]
    found = topics.find_topics([tokens.words(t) for t in texts])
    assert len(set(found[:3])) == 1
    assert found[0] != found[3]
    assert "ごみ" in found[0]
    assert "ゴミ" not in found[0]


def test_stored_words_group_the_same_as_the_texts_they_came_from() -> None:
    batch = [tokens.words(t) for t in NURSERY + GARBAGE]
    stored = [topics.content_words(words) for words in batch]
    assert topics.topics_of_documents(stored) == topics.find_topics(batch)
