"""The real SMTP server, for notices that residents chose to get by e-mail."""

from tests.mail import mail_settings, smtp_server  # noqa: F401  (fixtures)
