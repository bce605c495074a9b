"""The delivery worker against real receivers on loopback: signatures, formats, retries with
backoff, at-most-once across a restart, and the worker command."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from cityos.core.models import User
from cityos.db import Database, utcnow
from cityos.notify import channels, service, worker
from cityos.notify.config import NotifyConfig
from cityos.notify.models import Delivery, DeliveryAttempt, Notice, Subscription
from cityos.settings import Settings
from tests.notify.conftest import LINE_TOKEN, Receiver, new_browser, verify_vapid

HOOK_SECRET = "webhook-secret-0123456789"


def add_webhook(db: Database, admin: User, url: str, secret: str = HOOK_SECRET) -> str:
    with db.session() as session:
        user = session.get(User, admin.id)
        assert user is not None
        subscription, _ = service.create_webhook(
            session, user, service.WebhookInput(url=url, secret=secret), allow_private=True
        )
        return subscription.id


def send_notice(db: Database, **fields: object) -> Notice:
    values: dict[str, object] = {
        "topic": "disaster",
        "title_ja": "避難所を開設しました",
        "body_ja": "三鷹市立第一小学校を避難所として開設しました。",
        "title_en": "A shelter is open",
        "body_en": "Mitaka City Daiichi Elementary School is open as a shelter.",
    }
    values.update(fields)
    with db.session() as session:
        return service.enqueue_notice(session, service.NoticeInput(**values))  # type: ignore[arg-type]


def deliveries(db: Database) -> list[Delivery]:
    with db.session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.created_at)))


def attempts(db: Database, delivery_id: str) -> list[DeliveryAttempt]:
    with db.session() as session:
        query = select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
        return list(session.scalars(query.order_by(DeliveryAttempt.number)))


def test_a_webhook_post_is_signed_and_names_its_delivery(
    db: Database, admin: User, config: NotifyConfig, receiver: Receiver
) -> None:
    add_webhook(db, admin, receiver.url + "/hook")
    notice = send_notice(db, towns=["下連雀"])
    counts = service.deliver_due(db, config, utcnow(), 10)
    assert counts.sent == 1
    (request,) = receiver.to("/hook")
    (delivery,) = deliveries(db)
    expected = hmac.new(HOOK_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-cityos-signature"] == f"sha256={expected}"
    assert request.headers["x-cityos-delivery"] == delivery.id
    assert request.headers["content-type"].startswith("application/json")
    body = request.json()
    assert body["delivery_id"] == delivery.id
    assert body["notice"]["id"] == notice.id
    assert body["notice"]["title"] == {"ja": "避難所を開設しました", "en": "A shelter is open"}
    assert body["notice"]["towns"] == ["下連雀"]
    assert delivery.status == "sent"
    assert [a.outcome for a in attempts(db, delivery.id)] == ["sent"]


def test_a_failing_receiver_is_retried_with_backoff_and_gets_one_copy(
    db: Database, admin: User, config: NotifyConfig, receiver: Receiver
) -> None:
    add_webhook(db, admin, receiver.url + "/hook")
    send_notice(db)
    receiver.answer(500, 503)
    start = utcnow()
    first = service.deliver_due(db, config, start, 10)
    assert (first.claimed, first.retrying) == (1, 1)
    (delivery,) = deliveries(db)
    assert delivery.status == "queued"
    assert delivery.next_attempt_at == start + timedelta(minutes=1)
    assert "HTTP 500" in delivery.last_error
    # Not due yet: nothing is sent before the backoff has passed.
    assert service.deliver_due(db, config, start + timedelta(seconds=30), 10).claimed == 0
    second = service.deliver_due(db, config, start + timedelta(minutes=1), 10)
    assert second.retrying == 1
    (delivery,) = deliveries(db)
    assert delivery.next_attempt_at == start + timedelta(minutes=1) + timedelta(minutes=5)
    third = service.deliver_due(db, config, start + timedelta(minutes=6), 10)
    assert third.sent == 1
    # Once sent, it is never sent again however often the worker runs.
    assert service.deliver_due(db, config, start + timedelta(days=1), 10).claimed == 0
    hook = receiver.to("/hook")
    assert len(hook) == 3
    assert len({r.headers["x-cityos-delivery"] for r in hook}) == 1  # one id: receivers dedupe
    assert [(a.number, a.outcome, a.status_code) for a in attempts(db, delivery.id)] == [
        (1, "retry", 500),
        (2, "retry", 503),
        (3, "sent", 200),
    ]


def test_a_delivery_fails_for_good_after_the_last_backoff(
    db: Database, admin: User, config: NotifyConfig, receiver: Receiver
) -> None:
    add_webhook(db, admin, receiver.url + "/hook")
    send_notice(db)
    receiver.answer(*[500] * 10)
    now = utcnow()
    waits = []
    for _ in range(service.MAX_ATTEMPTS):
        service.deliver_due(db, config, now, 10)
        (delivery,) = deliveries(db)
        waits.append(delivery.next_attempt_at - now)
        now = delivery.next_attempt_at
    assert waits[:5] == list(service.BACKOFF)
    assert delivery.status == "failed"
    assert "6回試して" in delivery.last_error
    assert len(receiver.to("/hook")) == service.MAX_ATTEMPTS


def test_a_refusing_receiver_is_not_retried(
    db: Database, admin: User, config: NotifyConfig, receiver: Receiver
) -> None:
    add_webhook(db, admin, receiver.url + "/hook")
    send_notice(db)
    receiver.answer(404)
    assert service.deliver_due(db, config, utcnow(), 10).failed == 1
    (delivery,) = deliveries(db)
    assert delivery.status == "failed"
    assert "HTTP 404" in delivery.last_error


def test_a_row_left_sending_by_a_crash_is_not_sent_again(
    db: Database, admin: User, config: NotifyConfig, receiver: Receiver
) -> None:
    add_webhook(db, admin, receiver.url + "/hook")
    send_notice(db)
    # A worker claims the delivery and stops (killed) before it records the result.
    (queued,) = deliveries(db)
    with db.session() as session:
        job = service.claim_delivery(session, queued.id, utcnow())
    assert isinstance(job, service.Job)
    # The next worker starts: the row is marked unknown, and never sent by itself.
    total = worker.run_worker(db, config, until_empty=True)
    assert total.claimed == 0
    (delivery,) = deliveries(db)
    assert delivery.status == "unknown"
    assert "中断" in delivery.last_error
    assert [a.outcome for a in attempts(db, delivery.id)] == ["unknown"]
    assert service.deliver_due(db, config, utcnow() + timedelta(days=2), 10).claimed == 0
    assert receiver.to("/hook") == []
    # The first worker was only slow, not dead: what it finally learns is recorded.
    with db.session() as session:
        service.finish_delivery(
            session, job, channels.SendResult("sent", status_code=200), utcnow()
        )
    assert deliveries(db)[0].status == "sent"
    assert problem_ids(db) == []


def problem_ids(db: Database) -> list[str]:
    with db.session() as session:
        return [p.id for p in service.problem_deliveries(session)]


def test_staff_can_send_an_unknown_delivery_again(
    db: Database, admin: User, config: NotifyConfig, receiver: Receiver
) -> None:
    add_webhook(db, admin, receiver.url + "/hook")
    send_notice(db)
    (queued,) = deliveries(db)
    with db.session() as session:
        service.claim_delivery(session, queued.id, utcnow())
        service.recover_interrupted(session, utcnow())
    assert problem_ids(db) == [queued.id]
    with db.session() as session:
        user = session.get(User, admin.id)
        assert user is not None
        service.requeue_delivery(session, user, queued.id)
    assert service.deliver_due(db, config, utcnow(), 10).sent == 1
    assert len(receiver.to("/hook")) == 1


def test_two_workers_never_send_one_delivery_twice(
    db: Database, admin: User, config: NotifyConfig, receiver: Receiver
) -> None:
    for n in range(6):
        add_webhook(db, admin, f"{receiver.url}/hook{n}")
    send_notice(db)
    now = utcnow()
    with db.session() as session:
        ids = service.due_delivery_ids(session, now, 100)
    # Both workers saw the same due rows; each row is claimed by one of them only.
    counts = [service._deliver(db, config, ids, now, None) for _ in range(2)]
    assert sum(c.sent for c in counts) == 6
    assert sorted(r.path for r in receiver.requests) == [f"/hook{n}" for n in range(6)]


def test_line_pushes_use_the_push_api_with_the_channel_token(
    db: Database, config: NotifyConfig, receiver: Receiver
) -> None:
    with db.session() as session:
        service.handle_line_events(
            session,
            {
                "events": [
                    {"type": "follow", "source": {"type": "user", "userId": "U1234567890abcdef"}}
                ]
            },
        )
    send_notice(db)
    assert service.deliver_due(db, config, utcnow(), 10).sent == 1
    (push,) = receiver.to("/v2/bot/message/push")
    assert push.headers["authorization"] == f"Bearer {LINE_TOKEN}"
    assert push.headers["content-type"] == "application/json"
    (delivery,) = deliveries(db)
    assert push.headers["x-line-retry-key"] == delivery.id
    body = push.json()
    assert body["to"] == "U1234567890abcdef"
    assert body["messages"][0]["type"] == "text"
    assert body["messages"][0]["text"].startswith("【防災】避難所を開設しました")
    assert "三鷹市立第一小学校" in body["messages"][0]["text"]


def test_a_line_retry_that_line_already_accepted_counts_as_sent(
    db: Database, config: NotifyConfig, receiver: Receiver
) -> None:
    with db.session() as session:
        service.handle_line_events(
            session, {"events": [{"type": "follow", "source": {"userId": "Uabc"}}]}
        )
    send_notice(db)
    receiver.answer(409)
    assert service.deliver_due(db, config, utcnow(), 10).sent == 1


def test_web_push_is_encrypted_for_the_browser_and_signed_with_vapid(
    db: Database, config: NotifyConfig, receiver: Receiver
) -> None:
    browser = new_browser(receiver.url + "/push/abc123")
    with db.session() as session:
        keys = browser.subscription()["keys"]
        service.subscribe_webpush(
            session, endpoint=browser.endpoint, p256dh=keys["p256dh"], auth_secret=keys["auth"],
            towns=["野崎"], language="en", allow_private=True,
        )  # fmt: skip
    notice = send_notice(db, towns=["野崎一丁目"])
    assert service.deliver_due(db, config, utcnow(), 10).sent == 1
    (push,) = receiver.to("/push/abc123")
    assert push.headers["content-encoding"] == "aes128gcm"
    assert int(push.headers["ttl"]) > 0
    assert push.headers["urgency"] == "high"
    assert "p256dh" not in push.body.decode(errors="replace")
    verify_vapid(push.headers["authorization"], receiver.url)
    assert config.vapid_public_key in push.headers["authorization"]
    payload = json.loads(browser.decrypt(push.body))
    assert payload["title"] == "[Disaster prevention] A shelter is open"
    assert payload["tag"] == f"cityos-{notice.id}"
    assert payload["url"].endswith(f"/notify/notices/{notice.id}")


def test_an_expired_push_subscription_is_dropped(
    db: Database, config: NotifyConfig, receiver: Receiver
) -> None:
    browser = new_browser(receiver.url + "/push/old")
    with db.session() as session:
        keys = browser.subscription()["keys"]
        made = service.subscribe_webpush(
            session, endpoint=browser.endpoint, p256dh=keys["p256dh"], auth_secret=keys["auth"],
            allow_private=True,
        )  # fmt: skip
    send_notice(db)
    receiver.answer(410)
    assert service.deliver_due(db, config, utcnow(), 10).failed == 1
    with db.session() as session:
        gone = session.get(Subscription, made.id)
        assert gone is not None
        assert (gone.status, gone.address) == ("gone", "")
    send_notice(db, title_ja="次のお知らせ")
    assert len(deliveries(db)) == 1


def test_a_delivery_to_someone_who_unsubscribed_meanwhile_is_cancelled(
    db: Database, admin: User, config: NotifyConfig, receiver: Receiver
) -> None:
    hook = add_webhook(db, admin, receiver.url + "/hook")
    send_notice(db)
    with db.session() as session:
        session.execute(
            update(Subscription).where(Subscription.id == hook).values(status="unsubscribed")
        )
    assert service.deliver_due(db, config, utcnow(), 10).cancelled == 1
    assert receiver.requests == []


def test_the_worker_refuses_private_addresses_unless_allowed(
    db: Database, admin: User, settings: Settings, receiver: Receiver
) -> None:
    add_webhook(db, admin, receiver.url + "/hook")
    send_notice(db)
    strict = NotifyConfig.from_settings(settings, notify_allow_private_targets=False)
    assert service.deliver_due(db, strict, utcnow(), 10).failed == 1
    assert "not a public address" in deliveries(db)[0].last_error
    assert receiver.requests == []


def test_the_background_worker_sends_while_the_app_runs(
    db: Database,
    admin: User,
    settings: Settings,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CITYOS_NOTIFY_WORKER_IN_APP", "true")
    monkeypatch.setenv("CITYOS_NOTIFY_WORKER_INTERVAL", "0.05")
    add_webhook(db, admin, receiver.url + "/hook")

    async def run() -> None:
        async with worker.background_worker(db, settings):
            send_notice(db)
            deadline = time.monotonic() + 10
            while not receiver.to("/hook") and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

    # In a thread of its own: a browser test in this process may hold the main thread's loop.
    runner = threading.Thread(target=asyncio.run, args=(run(),))
    runner.start()
    runner.join(timeout=60)
    assert len(receiver.to("/hook")) == 1
    assert deliveries(db)[0].status == "sent"


def test_the_worker_command_sends_until_empty(
    db: Database, admin: User, database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    for n in range(3):
        add_webhook(db, admin, f"{receiver.url}/hook{n}")
    send_notice(db)
    env = {
        **os.environ,
        "CITYOS_DATABASE_URL": database_url,
        "CITYOS_DATA_DIR": str(tmp_path / "var"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "cityos", "notify", "worker", "--until-empty", "--max-seconds", "30"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "sent 3" in done.stdout
    assert len(receiver.requests) == 3
    assert {d.status for d in deliveries(db)} == {"sent"}
