"""Command forms built from the OCPP JSON schemas: one field per top-level property.

Scalars become inputs (enums become selects), lists of strings a "one per line" text area and
nested objects a JSON text area. ``parse`` turns the posted form back into a payload and names
the fields it cannot read; ``field_for_error`` maps a schema violation from
``app.ocpp.validation`` back to the field to show it next to.
"""
from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import ocpp

# Filled in by the command service when left empty (command_effects.prepare), so the form does
# not insist on them.
AUTO_FILLED = {
    ("SendLocalList", "listVersion"): "next version when empty",
    ("SendLocalList", "localAuthorizationList"): "every stored token when empty (Full list)",
    ("ReserveNow", "reservationId"): "next free id when empty",
    ("UpdateFirmware", "location"): "the chosen firmware file's download URL when empty",
    ("UpdateFirmware", "retrieveDate"): "now when empty",
    ("GetDiagnostics", "location"): "this server's upload URL when empty",
}


@dataclass
class Field:
    name: str
    label: str
    kind: str  # text | integer | number | boolean | select | lines | json | datetime
    required: bool
    choices: list[str] = field(default_factory=list)
    hint: str = ""


def _label(name: str) -> str:
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace("Id", "ID")
    return words[:1].upper() + words[1:]


@functools.cache
def schema(version: str, action: str) -> dict[str, Any]:
    folder = os.path.join(os.path.dirname(ocpp.__file__), "v" + version.replace(".", ""),
                          "schemas")
    suffix = "" if version == "1.6" else "Request"
    with open(os.path.join(folder, action + suffix + ".json"), encoding="utf-8-sig") as fh:
        return json.load(fh)


@functools.cache
def fields(version: str, action: str) -> tuple[Field, ...]:
    spec = schema(version, action)
    required = set(spec.get("required", ()))
    result = []
    for name, prop in spec.get("properties", {}).items():
        kind = prop.get("type", "string")
        hints = []
        if "enum" in prop:
            ftype, choices = "select", list(prop["enum"])
        elif kind == "integer":
            ftype, choices = "integer", []
        elif kind == "number":
            ftype, choices = "number", []
        elif kind == "boolean":
            ftype, choices = "boolean", []
        elif kind == "array" and prop.get("items", {}).get("type") == "string":
            ftype, choices = "lines", []
            hints.append("one per line")
        elif kind in ("array", "object"):
            ftype, choices = "json", []
            hints.append("JSON " + ("list" if kind == "array" else "object"))
        elif prop.get("format") == "date-time":
            ftype, choices = "datetime", []
            hints.append("ISO 8601, e.g. 2026-01-31T18:00:00Z")
        else:
            ftype, choices = "text", []
        if "maxLength" in prop:
            hints.append(f"at most {prop['maxLength']} characters")
        auto = AUTO_FILLED.get((action, name))
        if auto:
            hints.append(auto)
        result.append(Field(name=name, label=_label(name), kind=ftype,
                            required=name in required and auto is None, choices=choices,
                            hint="; ".join(hints)))
    return tuple(result)


def parse(version: str, action: str, form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Read the posted ``form`` into a payload; return it and the errors per field, in words."""
    payload: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields(version, action):
        raw = (form.get(f.name) or "").strip()
        if raw == "":
            continue  # absent: the schema check says whether it was required
        try:
            if f.kind == "integer":
                payload[f.name] = int(raw)
            elif f.kind == "number":
                payload[f.name] = float(raw)
            elif f.kind == "boolean":
                payload[f.name] = raw in ("true", "on", "1", "yes")
            elif f.kind == "lines":
                payload[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
            elif f.kind == "json":
                payload[f.name] = json.loads(raw)
            else:
                payload[f.name] = raw
        except ValueError as exc:
            errors[f.name] = {
                "integer": "Enter a whole number.",
                "number": "Enter a number.",
                "json": f"This is not valid JSON: {exc}.",
            }.get(f.kind, "This value cannot be read.")
    return payload, errors


_NAMED = re.compile(r"'([^']+)' (?:is a required property|was unexpected)")


def field_for_error(details: dict[str, Any], message: str) -> str | None:
    """The top-level field a schema violation is about, if it is about one."""
    path = str(details.get("path") or "")
    if path and path != "(payload)":
        return path.split("/", 1)[0]
    found = _NAMED.search(message)
    return found.group(1) if found else None


def explain(message: str) -> str:
    """A schema message for a person, shown next to its field: the field's own name is dropped
    from the path, a nested path is kept (``chargingSchedule/chargingRateUnit: ...``)."""
    message = re.sub(r"^invalid \w+ payload: ", "", message)
    message = re.sub(r"^\(payload\): ", "", message)
    return re.sub(r"^[^\s:/]+(?:/|: )", "", message, count=1)
