"""Tables of the disaster domain."""

from __future__ import annotations
