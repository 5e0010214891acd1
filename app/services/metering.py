"""Sampled meter values: parsing, unit normalisation (kWh to Wh, kW to W, ...), raw kept."""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from ..models import MeterValue
from .sql import fit_strings
from .time import parse_timestamp

_table = MeterValue.__table__

DEFAULT_MEASURAND = "Energy.Active.Import.Register"
# OCPP 1.6: the unit defaults to Wh (for the default measurand and energy registers).
DEFAULT_UNIT = "Wh"
# Units scaled to the base unit the rest of the system uses.
_SCALE = {
    "kWh": ("Wh", 1000.0),
    "kW": ("W", 1000.0),
    "kvarh": ("varh", 1000.0),
    "kvar": ("var", 1000.0),
    "kVA": ("VA", 1000.0),
}


def normalise(raw_value: str, unit: str | None) -> tuple[float | None, str | None]:
    """Return (value, unit) in base units; value is None when it is not a finite number
    (``float`` also reads "NaN", "Infinity" and "1e400", which no statistic can use)."""
    try:
        value = float(raw_value)
    except (TypeError, ValueError):
        return None, unit
    if unit in _SCALE:
        base, factor = _SCALE[unit]
        value, unit = value * factor, base  # 1e308 kWh overflows here
    if not math.isfinite(value):
        return None, unit
    return value, unit


def sampled_rows(meter_values: list[dict[str, Any]], *, charger_id: int, connector_id: int,
                 transaction_id: int | None, source: str) -> list[dict[str, Any]]:
    """Flatten OCPP 1.6 ``meterValue`` entries into meter_values rows."""
    rows = []
    for entry in meter_values:
        timestamp: datetime | None = parse_timestamp(entry.get("timestamp"))
        for sample in entry.get("sampledValue", ()):
            measurand = sample.get("measurand", DEFAULT_MEASURAND)
            raw_unit = sample.get("unit")
            unit = raw_unit if raw_unit is not None else (
                DEFAULT_UNIT if measurand.startswith("Energy.Active") else None)
            value, unit = normalise(sample.get("value"), unit)
            rows.append(fit_strings(_table, {
                "charger_id": charger_id,
                "connector_id": connector_id,
                "transaction_id": transaction_id,
                "timestamp": timestamp,
                "measurand": measurand,
                "phase": sample.get("phase"),
                "unit": unit,
                "value": value,
                "raw_value": str(sample.get("value")),
                "raw_unit": raw_unit,
                "context": sample.get("context"),
                "location": sample.get("location"),
                "format": sample.get("format"),
                "source": source,
            }))
    return rows
