"""Sampled meter values: parsing, unit normalisation (kWh to Wh, kW to W, ...), raw kept."""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from ..models import MeterValue
from .sql import fit_strings
from .time import parse_timestamp
from .values import Sample

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


def normalise(raw_value: object, unit: str | None,
              multiplier: int = 0) -> tuple[float | None, str | None]:
    """Return (value, unit) in base units; value is None when it is not a finite number
    (``float`` also reads "NaN", "Infinity" and "1e400", which no statistic can use).
    ``multiplier`` is a power of ten (2.x ``unitOfMeasure.multiplier``)."""
    if isinstance(raw_value, bool):
        return None, unit
    try:
        value = float(raw_value)  # type: ignore[arg-type]
        if multiplier:
            value *= 10.0 ** multiplier
    except (TypeError, ValueError, OverflowError):
        return None, unit
    if unit in _SCALE:
        base, factor = _SCALE[unit]
        value, unit = value * factor, base  # 1e308 kWh overflows here
    if not math.isfinite(value):
        return None, unit
    return value, unit


def sample_rows(samples: list[Sample], *, charger_id: int, connector_id: int,
                transaction_id: int | None, source: str) -> list[dict[str, Any]]:
    """meter_values rows for domain samples, normalised to base units (Wh, W, ...).

    A sample without a measurand is the default one (Energy.Active.Import.Register), whose unit
    defaults to Wh, as for every energy register. ``multiplier`` (2.x) scales the value by a
    power of ten before the unit is normalised; the raw value and unit are kept as sent.
    """
    rows = []
    for sample in samples:
        measurand = sample.measurand or DEFAULT_MEASURAND
        unit = sample.unit if sample.unit is not None else (
            DEFAULT_UNIT if measurand.startswith("Energy.Active") else None)
        value, unit = normalise(sample.value, unit, sample.multiplier)
        rows.append(fit_strings(_table, {
            "charger_id": charger_id,
            "connector_id": connector_id,
            "transaction_id": transaction_id,
            "timestamp": sample.timestamp,
            "measurand": measurand,
            "phase": sample.phase,
            "unit": unit,
            "value": value,
            "raw_value": str(sample.value),
            "raw_unit": sample.unit,
            "context": sample.context,
            "location": sample.location,
            "format": sample.format,
            "source": source,
        }))
    return rows


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
