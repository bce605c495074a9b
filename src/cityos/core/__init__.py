"""What every domain shares: auth and roles, audit log, events, errors, Japanese text."""
