"""Shared templates, static files and the page layout."""
