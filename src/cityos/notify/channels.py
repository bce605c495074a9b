"""The four channels: send one claimed delivery and say what happened.

Each sender answers a :class:`SendResult`: ``sent``; ``retry`` when the message surely did not
arrive, or when arriving twice is harmless (webhooks carry the delivery id, LINE pushes a
retry key, Web Push a Topic that replaces a pending copy); ``failed`` when trying again cannot
help; ``unknown`` when the message may have arrived and a second copy would reach a person
(an SMTP session cut after the message was handed over).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
from pywebpush import WebPusher, WebPushException  # type: ignore[import-untyped]

from cityos import __version__
from cityos.db import utcnow
from cityos.notify import messages
from cityos.notify.config import NotifyConfig
from cityos.notify.messages import Job

USER_AGENT = f"MitakaCityOS-Notify/{__version__}"
PUSH_TTL_SECONDS = 24 * 3600
MAX_RETRY_AFTER = 12 * 3600.0
SIGNATURE_HEADER = "X-CityOS-Signature"
DELIVERY_HEADER = "X-CityOS-Delivery"


@dataclass(frozen=True)
class SendResult:
    outcome: str  # sent, retry, failed, unknown
    error: str = ""
    status_code: int | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait
    gone: bool = False  # the recipient no longer exists (a push subscription expired)


def sign_body(secret: str, body: bytes) -> str:
    """The X-CityOS-Signature value: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class Transport:
    """Connections one worker run reuses: an HTTP client, and an SMTP session per thread."""

    def __init__(self, config: NotifyConfig) -> None:
        self.config = config
        self.http = httpx.Client(
            timeout=config.notify_http_timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            trust_env=False,
        )
        self._local = threading.local()
        self._sessions: list[smtplib.SMTP] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Transport:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    def smtp(self) -> tuple[smtplib.SMTP, bool]:
        """This thread's SMTP session, and whether it was open already (it may have timed out)."""
        session: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        if session is not None:
            return session, True
        config = self.config
        session = smtplib.SMTP(
            config.smtp_host, config.smtp_port, timeout=config.notify_http_timeout * 3
        )
        try:
            session.ehlo()
            if config.smtp_starttls:
                session.starttls(context=ssl.create_default_context())
                session.ehlo()
            if config.smtp_username:
                session.login(config.smtp_username, config.smtp_password)
        except BaseException:
            session.close()
            raise
        self._local.smtp = session
        with self._lock:
            self._sessions.append(session)
        return session, False

    def drop_smtp(self) -> None:
        session: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if session is not None:
            session.close()

    def close(self) -> None:
        self.http.close()
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            try:
                session.quit()
            except (OSError, smtplib.SMTPException):
                session.close()


def send(job: Job, transport: Transport) -> SendResult:
    if job.channel == "email":
        return send_email(job, transport)
    if job.channel == "webhook":
        return send_webhook(job, transport)
    if job.channel == "line":
        return send_line(job, transport)
    if job.channel == "webpush":
        return send_webpush(job, transport)
    return SendResult("failed", f"unknown channel {job.channel}")


# --- e-mail ----------------------------------------------------------------------------------


def _smtp_refusal(what: str, code: int, reply: bytes | str) -> SendResult:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    outcome = "retry" if 400 <= code < 500 else "failed"
    return SendResult(outcome, f"SMTP {what} {code} {text}"[:500], status_code=code)


def send_email(job: Job, transport: Transport) -> SendResult:
    message = messages.email_message(job, transport.config).as_bytes()
    sender = transport.config.from_address
    for _try in range(2):
        try:
            smtp, reused = transport.smtp()
        except (OSError, smtplib.SMTPException) as exc:
            transport.drop_smtp()
            return SendResult("retry", f"SMTP に接続できません / cannot reach SMTP: {exc}"[:500])
        try:
            code, reply = smtp.mail(sender)
            if code != 250:
                smtp.rset()
                return _smtp_refusal("MAIL FROM", code, reply)
            code, reply = smtp.rcpt(job.address)
            if code not in (250, 251):
                smtp.rset()
                return _smtp_refusal("RCPT TO", code, reply)
        except (OSError, smtplib.SMTPException) as exc:
            # Nothing was handed over yet: a session the relay closed while idle is reopened.
            transport.drop_smtp()
            if reused:
                continue
            return SendResult("retry", f"SMTP: {exc}"[:500])
        try:
            smtp.data(message)
        except smtplib.SMTPResponseException as exc:
            # The relay answered: it did not take the message.
            transport.drop_smtp()
            return _smtp_refusal("DATA", exc.smtp_code, exc.smtp_error)
        except (OSError, smtplib.SMTPException) as exc:
            transport.drop_smtp()
            return SendResult(
                "unknown",
                f"SMTP の応答前に切断されました（届いた可能性あり） / the relay went away while "
                f"taking the message (it may have arrived): {exc}"[:500],
            )
        return SendResult("sent", status_code=250)
    return SendResult("retry", "SMTP session closed twice")


# --- HTTP channels -------------------------------------------------------------------------


def target_problem(url: str, allow_private: bool) -> str:
    """Why we must not send to ``url`` (SSRF guard), or "" when it is fine.

    Residents give push endpoints and developers give webhook URLs; neither may point the
    server at the city's own network.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "URL は http(s) のみです / only http(s) URLs"
    if allow_private:
        return ""
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return f"DNS: {exc}"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return f"内部ネットワークのアドレスです / not a public address: {address}"
    return ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(max(0.0, (when - utcnow()).total_seconds()), MAX_RETRY_AFTER)


def _classify(response: httpx.Response) -> SendResult:
    code = response.status_code
    if 200 <= code < 300:
        return SendResult("sent", status_code=code)
    snippet = response.text[:300].replace("\n", " ") if response.content else ""
    error = f"HTTP {code} {snippet}".strip()
    if code in (408, 425, 429) or code >= 500:
        return SendResult("retry", error, status_code=code, retry_after=_retry_after(response))
    if 300 <= code < 400:
        return SendResult(
            "failed", f"HTTP {code}: リダイレクトは追いません / redirects are not followed", code
        )
    return SendResult("failed", error, status_code=code)


def _post(
    transport: Transport, url: str, body: bytes, headers: dict[str, str], *, repeatable: bool
) -> SendResult | httpx.Response:
    """POST once; a transport error becomes a result, an answer is returned to classify.

    ``repeatable``: whether the receiver drops a second copy, so a request that may have
    arrived can be tried again.
    """
    try:
        return transport.http.post(url, content=body, headers=headers)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        return SendResult("retry", f"接続できません / cannot connect: {exc!r}"[:500])
    except (httpx.TransportError, httpx.InvalidURL) as exc:
        if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
            return SendResult("failed", f"URL: {exc}"[:500])
        outcome = "retry" if repeatable else "unknown"
        return SendResult(
            outcome,
            f"応答がありません（届いた可能性あり） / no answer (it may have arrived): {exc!r}"[
                :500
            ],
        )


def send_webhook(job: Job, transport: Transport) -> SendResult:
    config = transport.config
    problem = target_problem(job.address, config.notify_allow_private_targets)
    if problem:
        return SendResult("retry" if problem.startswith("DNS") else "failed", problem)
    body = messages.webhook_body(job, config)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign_body(job.secret, body),
        DELIVERY_HEADER: job.delivery_id,
        "X-CityOS-Event": "notice",
    }
    answer = _post(transport, job.address, body, headers, repeatable=True)
    return answer if isinstance(answer, SendResult) else _classify(answer)


def send_line(job: Job, transport: Transport) -> SendResult:
    config = transport.config
    if not config.line_channel_access_token:
        return SendResult(
            "retry",
            "LINE のチャネルアクセストークンが未設定です / CITYOS_LINE_CHANNEL_ACCESS_TOKEN is not set",
        )
    headers = {
        "Authorization": f"Bearer {config.line_channel_access_token}",
        "Content-Type": "application/json",
    }
    base = config.line_api_base.rstrip("/")
    if job.kind == "reply":
        url = f"{base}/v2/bot/message/reply"
        message: dict[str, Any] = {"type": "text", "text": str(job.payload.get("text", ""))[:5000]}
        quick = job.payload.get("quick_replies") or []
        if quick:
            message["quickReply"] = {
                "items": [
                    {
                        "type": "action",
                        "action": {"type": "message", "label": q["label"], "text": q["text"]},
                    }
                    for q in quick
                ]
            }
        payload = {"replyToken": job.payload.get("reply_token", ""), "messages": [message]}
        repeatable = False  # a reply token works once
    else:
        url = f"{base}/v2/bot/message/push"
        payload = {
            "to": job.address,
            "messages": [{"type": "text", "text": messages.line_text(job, config)}],
        }
        # LINE accepts one request per retry key and answers 409 to a repeat.
        headers["X-Line-Retry-Key"] = job.delivery_id
        repeatable = True
    body = httpx.Request("POST", url, json=payload).content
    answer = _post(transport, url, body, headers, repeatable=repeatable)
    if isinstance(answer, SendResult):
        return answer
    if answer.status_code == 409 and job.kind != "reply":
        return SendResult("sent", "LINE: accepted earlier under the same retry key", 409)
    return _classify(answer)


def send_webpush(job: Job, transport: Transport) -> SendResult:
    config = transport.config
    problem = target_problem(job.address, config.notify_allow_private_targets)
    if problem:
        return SendResult("retry" if problem.startswith("DNS") else "failed", problem)
    payload = messages.push_payload(job, config)
    try:
        encrypted = WebPusher({"endpoint": job.address, "keys": dict(job.keys)}).encode(
            payload, content_encoding="aes128gcm"
        )["body"]
    except (WebPushException, ValueError, TypeError) as exc:
        return SendResult("failed", f"Web Push の鍵が不正です / bad subscription keys: {exc}"[:500])
    parts = urlsplit(job.address)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "sub": config.vapid_claim_subject,
        "exp": int(time.time()) + 12 * 3600,
    }
    notice_id = job.notice.id if job.notice else job.delivery_id
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Encoding": "aes128gcm",
        "TTL": str(PUSH_TTL_SECONDS),
        "Urgency": "high" if job.notice and job.notice.topic == "disaster" else "normal",
        # A retried copy replaces one the push service still holds (RFC 8030 §5.4).
        "Topic": base64.urlsafe_b64encode(bytes.fromhex(notice_id.replace("-", "")))
        .rstrip(b"=")
        .decode(),
        **config.vapid().sign(claims),
    }
    answer = _post(transport, job.address, encrypted, headers, repeatable=True)
    if isinstance(answer, SendResult):
        return answer
    if answer.status_code in (404, 410):
        return SendResult(
            "failed",
            f"HTTP {answer.status_code}: ブラウザの購読は終了しています / the push subscription has expired",
            answer.status_code,
            gone=True,
        )
    return _classify(answer)
