"""JSON API of the disaster domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
