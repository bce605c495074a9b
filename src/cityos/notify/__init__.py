"""Notices to residents through channels (e-mail, webhook, LINE, Web Push) and subscriptions."""
