"""What stations measure: entity types, attributes and their units, threshold names and the
physical limits that tell an impossible reading. Plain values only, shared by every module.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

WATER, WEATHER = "WaterObserved", "WeatherObserved"
ENTITY_TYPES = (WATER, WEATHER)
PRIMARY_ATTRIBUTE = {WATER: "height", WEATHER: "precipitation"}
KIND_LABELS = {WATER: ("水位", "River level"), WEATHER: ("雨量", "Rainfall")}
# The time-series attributes of each type (FIWARE Smart Data Models names) and their unit
# (UN/CEFACT common codes). Values are stored in these units.
TIMESERIES_UNITS: dict[str, dict[str, str]] = {
    WATER: {"height": "MTR", "flow": "MQS", "temperature": "CEL"},
    WEATHER: {
        "precipitation": "H67",
        "temperature": "CEL",
        "relativeHumidity": "P1",
        "windSpeed": "MTS",
        "atmosphericPressure": "A97",
    },
}
ATTRIBUTE_LABELS = {
    "height": ("水位", "Water level"),
    "precipitation": ("雨量（時間）", "Rainfall (hourly)"),
    "flow": ("流量", "Flow"),
    "temperature": ("気温・水温", "Temperature"),
    "relativeHumidity": ("湿度", "Humidity"),
    "windSpeed": ("風速", "Wind speed"),
    "atmosphericPressure": ("気圧", "Pressure"),
}
UNIT_SYMBOLS = {
    "MTR": "m",
    "H67": "mm/h",
    "MQS": "m³/s",
    "CEL": "℃",
    "P1": "%",
    "MTS": "m/s",
    "A97": "hPa",
}
# Other units a sender may use, as (canonical code, factor).
UNIT_ALIASES: dict[str, tuple[str, float]] = {
    "MTR": ("MTR", 1.0),
    "m": ("MTR", 1.0),
    "CMT": ("MTR", 0.01),
    "cm": ("MTR", 0.01),
    "MMT": ("MTR", 0.001),
    "H67": ("H67", 1.0),
    "mm/h": ("H67", 1.0),
    "mm/hr": ("H67", 1.0),
    "MQS": ("MQS", 1.0),
    "m3/s": ("MQS", 1.0),
    "m³/s": ("MQS", 1.0),
    "CEL": ("CEL", 1.0),
    "°C": ("CEL", 1.0),
    "℃": ("CEL", 1.0),
    "P1": ("P1", 1.0),
    "%": ("P1", 1.0),
    "MTS": ("MTS", 1.0),
    "m/s": ("MTS", 1.0),
    "A97": ("A97", 1.0),
    "hPa": ("A97", 1.0),
}
# "mm" is millimetres of water level or millimetres of rain in the hour, by attribute.
ATTRIBUTE_UNIT_ALIASES = {("height", "mm"): ("MTR", 0.001), ("precipitation", "mm"): ("H67", 1.0)}

# The river level thresholds of Japanese flood law (水防法), lowest first, and the short
# state names shown on maps; rain gauges use the Japan Meteorological Agency's rain terms.
RIVER_THRESHOLDS = {
    1: ("水防団待機水位", "Flood-fighting standby level"),
    2: ("はん濫注意水位", "Flood warning level"),
    3: ("避難判断水位", "Evacuation decision level"),
    4: ("はん濫危険水位", "Flood danger level"),
}
RIVER_STATES = {
    0: ("平常", "Normal"),
    1: ("待機", "Standby"),
    2: ("注意", "Warning"),
    3: ("避難判断", "Evacuation decision"),
    4: ("氾濫危険", "Danger"),
}
RAIN_THRESHOLDS = {
    1: ("強い雨", "Heavy rain"),
    2: ("激しい雨", "Very heavy rain"),
    3: ("非常に激しい雨", "Torrential rain"),
    4: ("猛烈な雨", "Extreme rain"),
}
NORMAL = ("平常", "Normal")
OFFLINE = ("通信途絶", "Offline")

# What cannot be a true reading unless a station says otherwise (readingLimits).
DEFAULT_LIMITS: dict[str, dict[str, float]] = {
    "height": {"min": 0.0, "max": 20.0, "maxChange": 2.0, "maxChangeSeconds": 600.0},
    "precipitation": {"min": 0.0, "max": 200.0},
    "flow": {"min": 0.0},
    "relativeHumidity": {"min": 0.0, "max": 100.0},
    "windSpeed": {"min": 0.0, "max": 120.0},
    "temperature": {"min": -50.0, "max": 60.0},
    "atmosphericPressure": {"min": 800.0, "max": 1100.0},
}
DEFAULT_HYSTERESIS = {"height": 0.05, "precipitation": 2.0}
DEFAULT_INTERVAL_S = 600
# A clock a little ahead is tolerated; a reading further in the future is impossible.
FUTURE_TOLERANCE = timedelta(minutes=5)


def timeseries_units(entity_type: str) -> dict[str, str]:
    """Time-series attributes of a type and the unit code each is stored in."""
    return TIMESERIES_UNITS.get(entity_type, {})


def canonical_unit(unit: str, given: str, value: float, attribute: str = "") -> float | None:
    """``value`` given in ``given`` converted to the canonical ``unit``; None if it cannot be."""
    found = ATTRIBUTE_UNIT_ALIASES.get((attribute, given)) or UNIT_ALIASES.get(given)
    if found is None or found[0] != unit:
        return None
    # Rounded so that 35 cm is 0.35 m, not 0.35000000000000003.
    return value if found[1] == 1.0 else round(value * found[1], 10)


def unit_symbol(code: str) -> str:
    return UNIT_SYMBOLS.get(code, code)


def limits_for(station_limits: dict[str, Any] | None, attribute: str) -> dict[str, float]:
    """The limits of one attribute: the defaults, overridden by the station's own."""
    merged = dict(DEFAULT_LIMITS.get(attribute, {}))
    merged.update((station_limits or {}).get(attribute, {}))
    return merged


def threshold_names(entity_type: str) -> dict[int, tuple[str, str]]:
    return RIVER_THRESHOLDS if entity_type == WATER else RAIN_THRESHOLDS
