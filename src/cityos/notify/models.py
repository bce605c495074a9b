"""Tables of the notify domain."""

from __future__ import annotations
