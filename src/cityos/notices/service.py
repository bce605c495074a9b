"""Push notices (プッシュ型サービス): residents opt in, staff target, residents see why.

A resident opts in on my page and chooses what may be matched: their age (from the profile's
birth date), their children's ages (household members marked 子 with a birth date), their town
(the profile's normalized address) and interests. Staff write a notice with a target rule;
every condition of the rule must hold, and a condition can only hold on an attribute the
resident chose to share. Each delivery keeps the reasons, shown to the resident with it.
A resident who chose e-mail also gets each notice by e-mail (notify's direct e-mail, queued
in the same transaction), with the reason and how to stop it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core import audit
from cityos.core import text as jtext
from cityos.core.errors import NotFoundProblem, ValidationProblem
from cityos.core.models import User
from cityos.core.text import TOKYO
from cityos.db import utcnow
from cityos.notices.models import INTERESTS, PushDelivery, PushNotice, PushPreference
from cityos.notify import service as notify
from cityos.residents import service as residents
from cityos.residents.models import Resident

MANAGE_PERMISSION = "notices.manage"
MAX_AGE = 120
MAX_CHILD_AGE = 25


# --- the resident's side ---------------------------------------------------------------------------


def preference(session: Session, resident: Resident) -> PushPreference:
    """The resident's opt-in (a default, not yet opted in, when they never chose)."""
    found = session.get(PushPreference, resident.id)
    return found if found is not None else PushPreference(resident_id=resident.id, interests=[])


def save_preference(
    session: Session,
    resident: Resident,
    *,
    enabled: bool,
    share_age: bool,
    share_children: bool,
    share_town: bool,
    interests: Sequence[str],
    by_email: bool = False,
) -> PushPreference:
    unknown = [i for i in interests if i not in INTERESTS]
    if unknown:
        raise ValidationProblem(
            "選べない関心分野があります / unknown interest", errors={"interests": unknown[:5]}
        )
    pref = session.get(PushPreference, resident.id)
    if pref is None:
        pref = PushPreference(resident_id=resident.id)
        session.add(pref)
    pref.enabled = enabled
    pref.share_age = share_age
    pref.share_children = share_children
    pref.share_town = share_town
    pref.interests = [i for i in INTERESTS if i in interests]
    pref.by_email = by_email
    pref.updated_at = utcnow()
    session.flush()
    return pref


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass
class Facts:
    """What the profile and household say, whether or not the resident shares it."""

    age: int | None
    children: list[int]
    town: str


def facts_of(resident: Resident, today: date | None = None) -> Facts:
    today = today or utcnow().astimezone(TOKYO).date()
    profile = resident.profile
    age = _age(profile.birth_date, today) if profile and profile.birth_date else None
    children = sorted(
        _age(m.birth_date, today)
        for m in resident.members
        if m.relation == "child" and m.birth_date is not None and m.birth_date <= today
    )
    town = str((profile.address or {}).get("town") or "") if profile else ""
    return Facts(age=age, children=children, town=town)


def inbox(session: Session, resident: Resident) -> list[tuple[PushDelivery, PushNotice]]:
    query = (
        select(PushDelivery, PushNotice)
        .join(PushNotice, PushNotice.id == PushDelivery.notice_id)
        .where(PushDelivery.resident_id == resident.id)
        .order_by(PushDelivery.id.desc())
        .limit(50)
    )
    return [(d, n) for d, n in session.execute(query).all()]


def stop(session: Session, resident: Resident, delivery_id: int, what: str) -> PushPreference:
    """Stop notices like this one (its interests leave the opt-in) or every notice."""
    delivery = session.get(PushDelivery, delivery_id)
    if delivery is None or delivery.resident_id != resident.id:
        raise NotFoundProblem("お知らせが見つかりません / no such notice")
    pref = preference(session, resident)
    session.add(pref)
    if what == "all" or not delivery.matched_interests:
        pref.enabled = False
    else:
        pref.interests = [i for i in pref.interests if i not in delivery.matched_interests]
    pref.updated_at = utcnow()
    session.flush()
    return pref


# --- the target rule ---------------------------------------------------------------------------


def _range(value: str, name: str, top: int, errors: dict[str, list[str]]) -> list[int] | None:
    value = jtext.normalize(value).replace("〜", "-").replace("~", "-").replace(" ", "")
    if not value:
        return None
    match = re.fullmatch(r"(\d{1,3})-(\d{1,3})", value) or re.fullmatch(r"(\d{1,3})", value)
    if match is None:
        errors[name] = [f"「0-5」のように書いてください / write it like 0-5 (0 to {top})"]
        return None
    low = int(match.group(1))
    high = int(match.group(match.lastindex or 1))
    if not 0 <= low <= high <= top:
        errors[name] = [f"0〜{top} の範囲で、小さい数を先に / 0 to {top}, the smaller first"]
        return None
    return [low, high]


def parse_rule(
    towns: str, interests: Sequence[str], child_age: str, age: str, known_towns: Sequence[str]
) -> dict[str, Any]:
    """A target rule from the staff form; every part is checked before any is used."""
    errors: dict[str, list[str]] = {}
    rule: dict[str, Any] = {}
    names = [t for t in re.split(r"[,、，\s]+", jtext.normalize(towns)) if t]
    if names:
        unknown = [
            t for t in names if known_towns and not any(k.startswith(t) for k in known_towns)
        ]
        if unknown:
            errors["towns"] = [
                f"市内の町名ではありません / not a town of the city: {'、'.join(unknown[:5])}"
            ]
        rule["towns"] = list(dict.fromkeys(names))
    if interests:
        if not set(interests) <= set(INTERESTS):
            errors["interests"] = ["選べない関心分野です / unknown interest"]
        rule["interests"] = [i for i in INTERESTS if i in interests]
    for name, top in (("child_age", MAX_CHILD_AGE), ("age", MAX_AGE)):
        found = _range(child_age if name == "child_age" else age, name, top, errors)
        if found is not None:
            rule[name] = found
    if errors:
        raise ValidationProblem(
            "対象の条件を確認してください / please check the target rule", errors=errors
        )
    return rule


def _interest_label(key: str) -> tuple[str, str]:
    return INTERESTS.get(key, (key, key))


def reasons_for(
    rule: Mapping[str, Any], pref: PushPreference, facts: Facts
) -> list[list[str]] | None:
    """Why the rule reaches this resident, as [ja, en] pairs; None when it does not."""
    if not pref.enabled:
        return None
    reasons: list[list[str]] = []
    if "interests" in rule:
        shared = [i for i in rule["interests"] if i in pref.interests]
        if not shared:
            return None
        ja = "・".join(f"『{_interest_label(i)[0]}』" for i in shared)
        en = ", ".join(f"“{_interest_label(i)[1]}”" for i in shared)
        reasons.append([f"あなたが{ja}を選んでいる", f"you chose {en}"])
    if "child_age" in rule:
        low, high = rule["child_age"]
        ages = [a for a in facts.children if low <= a <= high] if pref.share_children else []
        if not ages:
            return None
        reasons.append([f"お子さんが{ages[0]}歳", f"your child is {ages[0]}"])
    if "age" in rule:
        low, high = rule["age"]
        if not pref.share_age or facts.age is None or not low <= facts.age <= high:
            return None
        reasons.append([f"あなたが{facts.age}歳", f"you are {facts.age}"])
    if "towns" in rule:
        town = facts.town if pref.share_town else ""
        if not town or not any(town.startswith(t) for t in rule["towns"]):
            return None
        reasons.append([f"お住まいが{town}", f"you live in {town}"])
    if not reasons:
        reasons.append(["お知らせの受け取りを登録している", "you signed up for notices"])
    return reasons


def reason_sentence(reasons: Sequence[Sequence[str]], lang: str) -> str:
    """「あなたが『子育て』を選んでいて、お子さんが3歳だから」 / "because you chose ..."."""
    if lang == "en":
        return "Because " + " and ".join(r[1] for r in reasons) + "."
    return "、".join(r[0] for r in reasons) + "だから"


def rule_summary(rule: Mapping[str, Any], lang: str) -> str:
    en = lang == "en"
    parts = []
    if "towns" in rule:
        parts.append(("town in " if en else "町名: ") + "、".join(rule["towns"]))
    if "interests" in rule:
        labels = [_interest_label(i)[1 if en else 0] for i in rule["interests"]]
        parts.append(("interest: " if en else "関心: ") + " / ".join(labels))
    if "child_age" in rule:
        low, high = rule["child_age"]
        parts.append(f"child aged {low}-{high}" if en else f"{low}〜{high}歳の子がいる")
    if "age" in rule:
        low, high = rule["age"]
        parts.append(f"aged {low}-{high}" if en else f"本人が{low}〜{high}歳")
    if not parts:
        return "everyone who opted in" if en else "受け取りを登録したすべての人"
    return (" AND " if en else " かつ ").join(parts)


# --- staff: audience and sending ----------------------------------------------------------------


def _audience(
    session: Session, rule: Mapping[str, Any]
) -> Iterator[tuple[Resident, list[list[str]]]]:
    today = utcnow().astimezone(TOKYO).date()
    query = (
        select(Resident, PushPreference)
        .join(PushPreference, PushPreference.resident_id == Resident.id)
        .where(PushPreference.enabled.is_(True))
        .order_by(Resident.id)
    )
    for resident, pref in session.execute(query).all():
        reasons = reasons_for(rule, pref, facts_of(resident, today))
        if reasons is not None:
            yield resident, reasons


def audience_size(session: Session, rule: Mapping[str, Any]) -> int:
    return sum(1 for _ in _audience(session, rule))


def settings_url(site_url: str) -> str:
    return f"{site_url.rstrip('/')}/my/notices"


def notice_email(
    title: str, body: str, reasons: Sequence[Sequence[str]], site_url: str
) -> tuple[str, str]:
    """A notice as e-mailed to one resident: the text staff wrote, why, and how to stop it."""
    where = settings_url(site_url)
    subject = f"【三鷹市からのお知らせ】{title}"
    text = (
        f"{title}\n\n{body}\n\n"
        "【日本語】\n"
        f"このお知らせが届いたのは、{reason_sentence(reasons, 'ja')}です。\n"
        f"メールでの受け取りは、お知らせの受け取り設定で止められます: {where}\n"
        "（マイページのお知らせ欄には引き続き届きます。）\n\n"
        "[English]\n"
        f"Why you got this notice: {reason_sentence(reasons, 'en')}\n"
        f"To stop these e-mails, change your notice settings: {where}\n"
        "(Notices still arrive on your my page.)"
    )
    return subject, text


def send(
    session: Session,
    user: User,
    title: str,
    body: str,
    rule: dict[str, Any],
    *,
    site_url: str = "",
) -> PushNotice:
    errors: dict[str, list[str]] = {}
    title, body = title.strip(), body.strip()
    if not title or len(title) > 200:
        errors["title"] = ["件名（200字以内）を入力してください / enter a title (200 at most)"]
    if not body or len(body) > 5000:
        errors["body"] = ["本文（5000字以内）を入力してください / enter the text (5000 at most)"]
    if errors:
        raise ValidationProblem("入力を確認してください / please check the fields", errors=errors)
    notice = PushNotice(title=title, body=body, rule=rule, created_by=user.name, sent_at=utcnow())
    session.add(notice)
    session.flush()
    emailed = 0
    for resident, reasons in _audience(session, rule):
        pref = preference(session, resident)
        matched = [i for i in rule.get("interests", []) if i in pref.interests]
        session.add(
            PushDelivery(
                notice_id=notice.id, resident_id=resident.id, reasons=reasons,
                matched_interests=matched,
            )
        )  # fmt: skip
        notice.recipients += 1
        address = residents.mail_address(resident)  # never to an unconfirmed address
        if pref.by_email and address:
            subject, text = notice_email(title, body, reasons, site_url)
            if (
                notify.queue_direct_email(session, address, subject, text, kind="notices")
                is not None
            ):
                emailed += 1
    audit.record(
        session, user, "notices.send", "notices", str(notice.id),
        detail={"recipients": notice.recipients, "emailed": emailed, "rule": rule},
    )  # fmt: skip
    return notice


def sent_notices(session: Session) -> list[PushNotice]:
    return list(session.scalars(select(PushNotice).order_by(PushNotice.id.desc()).limit(100)))


def export_of(session: Session, resident: Resident) -> dict[str, Any]:
    """The resident's opt-in and received notices, for "download your data"."""
    pref = preference(session, resident)
    return {
        "enabled": pref.enabled,
        "share_age": pref.share_age,
        "share_children": pref.share_children,
        "share_town": pref.share_town,
        "interests": list(pref.interests),
        "by_email": pref.by_email,
        "received": [
            {
                "title": notice.title,
                "body": notice.body,
                "delivered_at": delivery.delivered_at.isoformat(),
                "why": reason_sentence(delivery.reasons, "ja"),
            }
            for delivery, notice in inbox(session, resident)
        ],
    }
