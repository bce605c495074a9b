"""Personal data in free text, found and masked (●●●): phone numbers, e-mail addresses, street
addresses down to the house number, and names of private persons before an honorific.

Shared by the domains that keep or publish what residents write: the citizens' voice masks
opinions before they are published (:mod:`cityos.voice.moderation` adds abuse), the chatbot
masks the questions it logs for staff.

* phone numbers (checked with :func:`cityos.core.text.normalize_phone`) and e-mail addresses,
* street addresses down to the house number, read by the city's address normalizer
  (:mod:`cityos.address`), so 「下連雀3-22-14」 and 「三鷹市下連雀三丁目22番14号」 are both found
  while 「井の頭公園」 or 「下連雀の交差点」 (no house number) stay,
* names of private persons: a name followed by an honorific (田中さん, 山田太郎様, スミスさん);
  roles (市長さん, 駅員さん, 皆さん) are not names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cityos.core import text as jtext

MASK = "●●●"
CITY = "東京都三鷹市"

_PHONE_RE = re.compile(
    r"(?:\+81[ -]?(?:\(0\))?|(?<![0-9+]))\(?[0-9]{1,5}\)?[ -]?\(?[0-9]{1,4}\)?[ -]?[0-9]{3,4}(?![0-9])"
)
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# A house number chain: 3-22-14, 3丁目22番14号, 三丁目22番地, 22番14号.
_CHAIN_RE = re.compile(
    r"[0-9一二三四五六七八九十]+丁目\s*[0-9]+(?:番地?|-)(?:\s*[0-9]+号?)?(?:-[0-9]+)?"
    r"|[0-9]+番地?(?:[0-9]+号?)?(?:-[0-9]+)?"
    r"|[0-9]+-[0-9]+(?:-[0-9]+)?"
)
_BEFORE_CHAIN = 14  # characters looked back from a chain for the town (and city) name
_TOWN_NUMBER = re.compile(r"[一二三四五六七八九十]+丁目$")
_PLACE_CHAR = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\u4e00-\u9fff々ヶ]")

# さまよう, 様子, 様々, 君が代 are not honorifics.
_HONORIFICS = "さん|さま(?![よざ])|様(?![子々式相態])|氏|くん|君(?![が臨])|ちゃん|殿(?![堂下様])"
_NAME_RE = re.compile(
    rf"(?P<name>[\u4e00-\u9fff々\u30a1-\u30fa\u30fc・ ]{{1,12}})(?={_HONORIFICS})"
)
# Words before an honorific that name a role or a group, not a person (Sudachi also tells a
# proper noun from a common one; these are the proper-looking exceptions).
ROLES = frozenset(["皆", "皆様", "市長", "神", "仏"])


@dataclass(frozen=True)
class Finding:
    kind: str  # one of KINDS
    start: int  # in the normalized text
    end: int
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}


def _phones(written: str) -> list[Finding]:
    found = []
    for match in _PHONE_RE.finditer(written):
        candidate = match.group().strip()
        # An opening bracket around the whole number is the sentence's, not the number's.
        if candidate.startswith("(") and ")" not in candidate:
            candidate = candidate[1:]
        if jtext.normalize_phone(candidate) is not None:
            start = match.start() + match.group().index(candidate)
            found.append(Finding("phone", start, start + len(candidate), candidate))
    return found


def _emails(written: str) -> list[Finding]:
    return [Finding("email", m.start(), m.end(), m.group()) for m in _EMAIL_RE.finditer(written)]


def _addresses(written: str) -> list[Finding]:
    from cityos.address import service as address

    found = []
    for match in _CHAIN_RE.finditer(written):
        end = match.end()
        best = None
        for start in range(max(0, match.start() - _BEFORE_CHAIN), match.start()):
            if not _PLACE_CHAR.match(written, start):
                continue
            candidate = written[start:end]
            read = address.normalize(candidate, prefer_city=CITY)
            if read.level < address.LEVEL_TOWN or not read.addr or read.other or not read.town:
                continue
            # The normalizer forgives a lot (it reads typos); a finding needs the town's
            # name written out in the text itself.
            town = _TOWN_NUMBER.sub("", read.town)
            if len(town) >= 2 and jtext.search_key(town) in jtext.search_key(candidate):
                best = start  # the earliest start that still reads as one address
                break
        if best is not None:
            found.append(Finding("address", best, end, written[best:end]))
    return found


def _names(written: str) -> list[Finding]:
    """Proper nouns (Sudachi's 固有名詞: 田中, 山田太郎, スミス) right before an honorific;
    roles and trades (助産師さん, パン屋さん, ケアマネジャーさん) are common nouns and stay."""
    from cityos.core import tokens

    found = []
    for match in _NAME_RE.finditer(written):
        words = tokens.words(match.group("name"))
        kept: list[str] = []
        for word in reversed(words):
            if (word.pos == "名詞" and word.detail == "固有名詞" and word.surface not in ROLES) or (
                word.surface in ("・", " ") and kept
            ):
                kept.insert(0, word.surface)
            else:
                break
        name = "".join(kept).lstrip("・ ")
        if not name:
            continue
        found.append(Finding("name", match.end() - len(name), match.end(), name))
    return found


def without_overlaps(findings: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and finding.start < kept[-1].end:
            if finding.end > kept[-1].end:  # overlapping: one mask over both
                last = kept.pop()
                kept.append(Finding(last.kind, last.start, finding.end, last.text))
            continue
        kept.append(finding)
    return kept


def personal_findings(normalized: str) -> list[Finding]:
    """Phones, e-mail addresses, street addresses and names in ``normalized`` text."""
    contacts = _emails(normalized) + _phones(normalized)
    # A phone number is not also read as a house number chain.
    places = [
        place
        for place in _addresses(normalized)
        if not any(place.start < c.end and c.start < place.end for c in contacts)
    ]
    return contacts + places + _names(normalized)


def masked(normalized: str, findings: list[Finding]) -> str:
    """``normalized`` with each finding replaced by ●●● (never one mark a letter: the length
    would tell)."""
    pieces: list[str] = []
    position = 0
    for finding in without_overlaps(findings):
        pieces.append(normalized[position : finding.start])
        pieces.append(MASK)
        position = finding.end
    pieces.append(normalized[position:])
    return "".join(pieces)


def mask_personal(written: str) -> str:
    """The text normalized, with personal data masked: what may be kept in a log."""
    normalized = jtext.normalize(written).strip()
    return masked(normalized, personal_findings(normalized))
