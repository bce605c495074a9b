"""Tables of the sensors domain."""

from __future__ import annotations
