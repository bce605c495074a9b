"""The kinds of direct e-mail: messages a domain writes to one address (not notices).

Each (address, kind) has its own subscription, so the unsubscribe link in a report update
stops report updates only; the labels say, in both languages, what a link stops.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DirectKind:
    """One kind of direct e-mail: what its unsubscribe link stops, in both languages."""

    ja: str
    en: str


DIRECT_KINDS: dict[str, DirectKind] = {
    "reports": DirectKind("ご報告の状況のお知らせメール", "updates on your reports"),
    "applications": DirectKind(
        "電子申請の状況のお知らせメール", "updates on your online applications"
    ),
    "reservations": DirectKind(
        "窓口のご予約の前日のお知らせメール", "reminders of your counter reservations"
    ),
    "notices": DirectKind("あなたあてのお知らせのメール", "notices from the city matched to you"),
    # The link a resident asks for when they give their address. Its own kind, so stopping
    # report updates or reminders never keeps a resident from confirming an address they have
    # just entered; and stoppable on its own, so a person whose address a stranger keeps
    # typing in can stop these. "Stop all" (and an address stopped before kinds existed)
    # stops them too: that person asked the city to write nothing more to the address, and
    # the residents page then says so and asks for another address.
    "confirmation": DirectKind("メールアドレス確認のメール", "e-mail address confirmation links"),
}

# The subscription that stands for every kind at once. Its key is the one that all direct
# e-mail went through before kinds existed, so an address unsubscribed then stays stopped for
# every kind. No message is queued on it any more.
ALL_DIRECT = "all"
ALL_DIRECT_LABEL = DirectKind(
    "市からこのアドレスあての個別のメールすべて（"
    + "、".join(k.ja for k in DIRECT_KINDS.values())
    + "）",
    "every e-mail the city writes to this address alone ("
    + ", ".join(k.en for k in DIRECT_KINDS.values())
    + ")",
)


def label(kind: str) -> DirectKind:
    """What the unsubscribe link of ``kind`` (or ALL_DIRECT) stops."""
    return ALL_DIRECT_LABEL if kind == ALL_DIRECT else DIRECT_KINDS[kind]
