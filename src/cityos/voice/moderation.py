"""What an opinion must not publish: personal information and abuse, found and masked (●●●).

Personal data is found by :mod:`cityos.core.privacy` (shared with the chatbot's log), abuse
here. Found automatically, before anyone reads the opinion:

* phone numbers (checked with :func:`cityos.core.text.normalize_phone`) and e-mail addresses,
* street addresses down to the house number, read by the city's address normalizer
  (:mod:`cityos.address`), so 「下連雀3-22-14」 and 「三鷹市下連雀三丁目22番14号」 are both found
  while 「井の頭公園」 or 「下連雀の交差点」 (no house number) stay,
* names of private persons: a name followed by an honorific (田中さん, 山田太郎様, スミスさん);
  roles (市長さん, 駅員さん, 皆さん) are not names,
* abuse, from the word list below, matched under width and kana folding and with spacers
  between the letters (バ・カ, ｼﾈ).

The published text is the normalized text (:func:`cityos.core.text.normalize`) with each
finding replaced by ●●● (never by as many marks as letters: the length would tell). An
opinion with any finding waits for staff; staff see both texts side by side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cityos.core import privacy
from cityos.core import text as jtext
from cityos.core.privacy import Finding, masked, personal_findings, without_overlaps

MASK = privacy.MASK

KINDS = {
    "phone": ("電話番号", "phone number"),
    "email": ("メールアドレス", "e-mail address"),
    "address": ("住所", "street address"),
    "name": ("個人名", "name of a person"),
    "abuse": ("不適切な表現", "abusive language"),
}

# Abuse, written as search keys (katakana as hiragana). Words common in honest complaints
# (ゴミ is also the rubbish collection) are left out.
_ABUSE = (
    r"死ね|しね(?![ぁ-ん])|氏ね|4ね|殺す|ころす|殺せ|ころせ|消えろ|きえろ|くたばれ"
    r"|馬鹿|ばか(?![りさ])|あほ(?![ぁ-ん])|(?<!踊る)(?<!見る)阿呆|間抜け|まぬけ|くず(?![れぁ-ん])|屑|かす(?![ぁ-ん])"
    r"|無能|能無し|役立たず|税金泥棒|給料泥棒|ぼけ(?![ぁ-ん])|きもい|きしょい|うざい|うぜ"
    r"|ふぁっく|fuck|shit|idiot|stupid|bitch"
)
_ABUSE_RE = re.compile(_ABUSE)
# Letters spaced out to slip past a list: バ・カ, し ね, ば.か
_KATAKANA = re.compile("[\u30a1-\u30fa\u30fc]")
_SPACERS = frozenset(" \u3000・.,_*-~ー/|")


@dataclass(frozen=True)
class Checked:
    normalized: str
    published: str
    findings: list[Finding]

    @property
    def flagged(self) -> bool:
        return bool(self.findings)


def _abuse(written: str) -> list[Finding]:
    # A key of the text letter by letter (spacers left out), remembering where each came from.
    keys: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(written):
        if char in _SPACERS and keys:
            continue
        for folded in jtext.search_key(char):
            keys.append(folded)
            origin.append(index)
    key = "".join(keys)
    found = []
    for match in _ABUSE_RE.finditer(key):
        start, end = origin[match.start()], origin[match.end() - 1] + 1
        # Inside a longer katakana word (マイナンバーカード) it is not the word at all.
        if _KATAKANA.match(written, start) and (
            (start > 0 and _KATAKANA.match(written, start - 1))
            or (end < len(written) and _KATAKANA.match(written, end))
        ):
            continue
        found.append(Finding("abuse", start, end, written[start:end]))
    return found


def check(written: str) -> Checked:
    """The text as it may be published, and what was masked in it."""
    normalized = jtext.normalize(written).strip()
    findings = personal_findings(normalized) + _abuse(normalized)
    kept = without_overlaps(findings)
    return Checked(normalized, masked(normalized, kept), kept)
