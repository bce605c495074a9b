"""Settings of pedestrian routing, read from CITYOS_* environment variables when asked.

They belong in ``cityos.settings.Settings`` (``pedestrian_network``, ``walking_speed_kmh``,
``slow_walking_speed_kmh``); until they move there they are read here, at call time, so a
test or a command can set them without reloading anything.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_NETWORK = "CITYOS_PEDESTRIAN_NETWORK"
ENV_SPEED = "CITYOS_WALKING_SPEED_KMH"
ENV_SLOW_SPEED = "CITYOS_SLOW_WALKING_SPEED_KMH"
DEFAULT_SPEED_KMH = 4.0  # an adult walking in a crowd, or at night, in a disaster
DEFAULT_SLOW_SPEED_KMH = 3.0  # wheelchair users, elderly people, people with small children


def network_path() -> Path | None:
    """The pedestrian network file (or folder) to load by default; None when not set."""
    value = os.environ.get(ENV_NETWORK, "").strip()
    return Path(value).expanduser() if value else None


def _speed(variable: str, default: float) -> float:
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    try:
        speed = float(value)
    except ValueError:
        raise ValueError(
            f"{variable} は km/h の数値です: {value!r} / {variable} must be a speed in km/h"
        ) from None
    if not 0.5 <= speed <= 10.0:
        raise ValueError(f"{variable} は 0.5〜10 km/h です / {variable} must be 0.5-10 km/h")
    return speed


def walking_speed_kmh() -> float:
    return _speed(ENV_SPEED, DEFAULT_SPEED_KMH)


def slow_walking_speed_kmh() -> float:
    """The speed for step-free routes (wheelchairs) and for elderly people."""
    return _speed(ENV_SLOW_SPEED, DEFAULT_SLOW_SPEED_KMH)


def cache_dir() -> Path:
    from cityos.settings import Settings

    return Settings().resolved_cache_dir
