"""The real SMTP server (the notify tests' aiosmtpd process) for domains that send e-mail
through notify: import both fixtures into a test package's conftest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cityos.notify.config import NotifyConfig
from cityos.settings import Settings
from tests.notify.conftest import SmtpServer


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    """aiosmtpd in its own process, writing every message into a Maildir."""
    server = SmtpServer(tmp_path_factory.mktemp("maildir") / "inbox")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpServer) -> NotifyConfig:
    """How notify sends in these tests: to the local SMTP server."""
    return NotifyConfig.from_settings(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_from="三鷹市 City OS <noreply@city.mitaka.example>",
    )
