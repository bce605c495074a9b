"""Mitaka City OS: the city's data-integration base (都市OS) and the services on it."""

__version__ = "0.1.0"
