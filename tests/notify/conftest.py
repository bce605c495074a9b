"""Real peers on loopback for the notify tests: an SMTP server process (aiosmtpd writing a
Maildir), an HTTP receiver for webhooks, LINE and Web Push, and a browser's push keys."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import mailbox
import os
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import http_ece  # type: ignore[import-untyped]
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cityos.notify.config import NotifyConfig
from cityos.settings import Settings
from tests.conftest import free_port

LINE_SECRET = "line-channel-secret-for-tests"
LINE_TOKEN = "line-channel-access-token-for-tests"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- SMTP ------------------------------------------------------------------------------------


class SmtpServer:
    """aiosmtpd in its own process, storing every message in a Maildir."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
                "-c", "aiosmtpd.handlers.Mailbox", str(self.maildir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"aiosmtpd exited: {self.process.stderr!r}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("aiosmtpd did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def messages(self, to: str) -> list[EmailMessage]:
        """The messages received for ``to``, oldest first."""
        box = mailbox.Maildir(str(self.maildir), create=False)
        found = []
        for key in box.iterkeys():
            raw = box.get_bytes(key)
            message = email.message_from_bytes(raw, policy=email.policy.default)
            if to.lower() in str(message.get("X-RcptTo", "")).lower():
                assert isinstance(message, EmailMessage)
                found.append((float(box.get_message(key).get_date()), raw, message))
        return [m for _, _, m in sorted(found, key=lambda item: item[0])]

    def take(self, to: str, subject: str) -> EmailMessage:
        """The newest message for ``to`` whose subject has ``subject``, removed from the box
        (as a resident who read and deleted it), so it is not counted with later ones."""
        box = mailbox.Maildir(str(self.maildir), create=False)
        found = []
        for key in box.iterkeys():
            message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
            if to.lower() in str(message.get("X-RcptTo", "")).lower() and subject in str(
                message.get("Subject", "")
            ):
                found.append((float(box.get_message(key).get_date()), key, message))
        assert found, f"no message to {to} about {subject!r}"
        _date, key, message = max(found, key=lambda item: item[0])
        box.remove(key)
        assert isinstance(message, EmailMessage)
        return message

    def raw_messages(self, to: str) -> list[bytes]:
        box = mailbox.Maildir(str(self.maildir), create=False)
        return [
            box.get_bytes(k)
            for k in box.iterkeys()
            if to.lower().encode() in box.get_bytes(k).lower()
        ]


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path_factory.mktemp("maildir") / "inbox")
    server.start()
    yield server
    server.stop()


# --- HTTP receiver ---------------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A tiny HTTP server: records every request, answers the statuses it is given (200 after)."""

    requests: list[Received] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, *statuses: int) -> None:
        self.statuses.extend(statuses)

    def to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


@contextmanager
def serving_receiver() -> Iterator[Receiver]:
    """A :class:`Receiver` listening on a loopback port until the block ends."""
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            with lock:
                state.requests.append(
                    Received(
                        "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                )
                status = state.statuses.popleft() if state.statuses else 200
            payload = b"{}"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.server = server
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving_receiver() as state:
        yield state


# --- a browser's push keys -------------------------------------------------------------------


@dataclass
class Browser:
    """What a browser keeps for a push subscription: its ECDH key pair and auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)

    def subscription(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 aes128gcm, as the browser does it."""
        plain: bytes = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return plain


def new_browser(endpoint: str) -> Browser:
    return Browser(endpoint, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))


def verify_vapid(authorization: str, audience: str) -> dict[str, Any]:
    """Check an RFC 8292 ``vapid t=<JWT>, k=<key>`` header the way a push service does."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    header_b64, claims_b64, signature_b64 = parts["t"].split(".")
    header = json.loads(unb64url(header_b64))
    claims: dict[str, Any] = json.loads(unb64url(claims_b64))
    assert header["alg"] == "ES256"
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
    signature = unb64url(signature_b64)
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        pytest.fail("the VAPID signature does not verify")
    assert claims["aud"] == audience
    assert claims["exp"] > time.time()
    assert claims["sub"].startswith(("mailto:", "https:"))
    return claims


# --- settings --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def notify_environment(
    monkeypatch: pytest.MonkeyPatch, smtp_server: SmtpServer, receiver: Receiver
) -> None:
    """What the app reads from CITYOS_* for notify: the local peers, no in-app worker."""
    monkeypatch.setenv("CITYOS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CITYOS_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("CITYOS_SMTP_FROM", "三鷹市 City OS <noreply@city.mitaka.example>")
    monkeypatch.setenv("CITYOS_LINE_API_BASE", receiver.url)
    monkeypatch.setenv("CITYOS_LINE_CHANNEL_SECRET", LINE_SECRET)
    monkeypatch.setenv("CITYOS_LINE_CHANNEL_ACCESS_TOKEN", LINE_TOKEN)
    monkeypatch.setenv("CITYOS_NOTIFY_ALLOW_PRIVATE_TARGETS", "true")
    monkeypatch.setenv("CITYOS_NOTIFY_WORKER_IN_APP", "false")
    monkeypatch.setenv("CITYOS_NOTIFY_HTTP_TIMEOUT", "3")


@pytest.fixture
def config(settings: Settings) -> NotifyConfig:
    return NotifyConfig.from_settings(settings)
