"""Template filters: times in UTC, power and energy with units, JSON for people."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from . import bp


@bp.app_template_filter("dt")
def format_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@bp.app_template_filter("iso")
def format_iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@bp.app_template_filter("power")
def format_power(watts: float | None) -> str:
    if watts is None:
        return "—"
    return f"{watts / 1000:.2f} kW" if abs(watts) >= 1000 else f"{watts:.0f} W"


@bp.app_template_filter("energy")
def format_energy(wh: float | None) -> str:
    if wh is None:
        return "—"
    return f"{wh / 1000:.2f} kWh" if abs(wh) >= 1000 else f"{wh:.0f} Wh"


@bp.app_template_filter("pretty_json")
def pretty_json(value: Any) -> str:
    if value is None:
        return "—"
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@bp.app_template_filter("status_class")
def status_class(status: str | None) -> str:
    """A CSS class per OCPP connector status family (colour is never the only signal)."""
    return {
        "Available": "ok", "Charging": "busy", "Preparing": "busy", "SuspendedEV": "busy",
        "SuspendedEVSE": "busy", "Finishing": "busy", "Reserved": "info",
        "Unavailable": "off", "Faulted": "bad",
    }.get(status or "", "off")
