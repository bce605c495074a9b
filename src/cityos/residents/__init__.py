"""Resident accounts (kept apart from staff accounts), their profiles and "my page"."""
