"""Settings of the notify domain: SMTP, LINE, Web Push (VAPID) and the delivery worker.

Every value comes from a ``CITYOS_*`` environment variable, like the rest of City OS
(``CITYOS_SMTP_HOST``, ``CITYOS_LINE_CHANNEL_SECRET`` ...). ``NotifyConfig.from_settings``
takes the shared values (data directory, public URL, secret key) from :class:`Settings`, and
any notify value that ``Settings`` itself defines, so these fields can move there unchanged.
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid  # type: ignore[import-untyped]
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cityos.settings import Settings

VAPID_KEY_FILE = "vapid_private_key.pem"


class NotifyConfig(BaseSettings):
    """How notices leave City OS. Defaults suit a single machine with a local mail relay."""

    model_config = SettingsConfigDict(env_prefix="CITYOS_", extra="ignore")

    # Shared with Settings (taken from it by from_settings).
    data_dir: Path = Field(default=Path("var"), description="Where the VAPID key is kept")
    site_url: str = Field(default="http://127.0.0.1:8000", description="Public base URL for links")
    secret_key: str = Field(default="", description="Signs the links in e-mails")

    smtp_host: str = Field(default="127.0.0.1", description="SMTP relay host")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP relay port")
    smtp_from: str = Field(
        default="三鷹市 City OS <noreply@localhost>", description="From: of notice e-mails"
    )
    smtp_username: str = Field(default="", description="SMTP AUTH user (empty: no AUTH)")
    smtp_password: str = Field(default="", description="SMTP AUTH password")
    smtp_starttls: bool = Field(default=False, description="Use STARTTLS with the relay")

    line_channel_secret: str = Field(default="", description="LINE Messaging API channel secret")
    line_channel_access_token: str = Field(default="", description="LINE channel access token")
    line_api_base: str = Field(default="https://api.line.me", description="LINE API base URL")

    vapid_private_key: str = Field(
        default="",
        description="Web Push VAPID private key (PEM, or base64url); default: generated once "
        "into DATA_DIR/vapid_private_key.pem",
    )
    vapid_subject: str = Field(
        default="", description="VAPID contact (mailto: or https:); default from SMTP_FROM"
    )

    notify_http_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a webhook, LINE or push request may take"
    )
    notify_worker_in_app: bool = Field(
        default=True, description="Run the delivery worker inside the web app"
    )
    notify_worker_interval: float = Field(
        default=5.0, gt=0, description="Seconds between looks for due deliveries"
    )
    notify_worker_concurrency: int = Field(
        default=8, ge=1, le=64, description="Deliveries sent at once by one worker"
    )
    notify_allow_private_targets: bool = Field(
        default=False,
        description="Allow webhooks and push endpoints on loopback/private addresses and "
        "plain-http push endpoints (development and tests only)",
    )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> NotifyConfig:
        values: dict[str, Any] = {
            "data_dir": settings.data_dir,
            "site_url": settings.site_url,
            "secret_key": settings.resolved_secret_key,
        }
        for name in cls.model_fields:
            if name not in values and name in type(settings).model_fields:
                values[name] = getattr(settings, name)
        values.update(overrides)
        return cls(**values)

    @property
    def base_url(self) -> str:
        return self.site_url.rstrip("/")

    @property
    def from_address(self) -> str:
        return parseaddr(self.smtp_from)[1] or "noreply@localhost"

    @property
    def line_configured(self) -> bool:
        return bool(self.line_channel_secret)

    def vapid(self) -> Vapid:
        """The VAPID signer: the configured key, else the one kept in DATA_DIR."""
        if self.vapid_private_key:
            return _vapid_from_text(self.vapid_private_key)
        return _vapid_from_file(str((self.data_dir / VAPID_KEY_FILE).resolve()))

    @property
    def vapid_public_key(self) -> str:
        """The applicationServerKey a browser subscribes with (base64url, uncompressed point)."""
        raw = self.vapid().public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @property
    def vapid_claim_subject(self) -> str:
        if self.vapid_subject:
            return self.vapid_subject
        if urlsplit(self.site_url).scheme == "https":
            return self.base_url
        return f"mailto:{self.from_address}"


@lru_cache(maxsize=8)
def _vapid_from_text(text: str) -> Vapid:
    if "BEGIN" in text:
        return Vapid.from_pem(text.encode())
    return Vapid.from_string(text)


@lru_cache(maxsize=8)
def _vapid_from_file(path: str) -> Vapid:
    """Read the key, creating it first when missing (atomically: two processes agree)."""
    key_path = Path(path)
    if not key_path.exists():
        key_path.parent.mkdir(parents=True, exist_ok=True)
        vapid = Vapid()
        vapid.generate_keys()
        handle, temp = tempfile.mkstemp(dir=key_path.parent, prefix=".vapid-")
        try:
            os.fchmod(handle, 0o600)
            os.write(handle, vapid.private_pem())
            os.close(handle)
            with contextlib.suppress(FileExistsError):  # another process won the race
                os.link(temp, key_path)
        finally:
            Path(temp).unlink(missing_ok=True)
    return Vapid.from_pem(key_path.read_bytes())
