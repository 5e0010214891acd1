"""OCPP 2.0.1 / 2.1 device model on the wire: NotifyReport, and Get/SetVariables, GetBaseReport
and GetReport payloads turned into the domain values of ``services.device_model_values``.

The only place the device model's camelCase fields are read. ``notify_report`` is the
station-to-CSMS handler; the ``*_results`` / ``*_requests`` converters are what the command
effects (``services.command_effects``) call on a completed command's request and response, and
``variable_payloads`` builds Get/SetVariables requests split to the charger's ItemsPerMessage.
2.1's payloads have the same shape here (its extra optional fields are not stored).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ...services import device_model
from ...services.device_model_values import (
    ComponentRef,
    ReportedVariable,
    VariableAttribute,
    VariableCharacteristics,
    VariableRef,
    VariableRequest,
    VariableResult,
)
from ...services.errors import InvalidReport
from ...services.time import parse_timestamp
from ..context import ChargerContext
from ..errors import RemoteProtocolError


def component_ref(c: dict[str, Any]) -> ComponentRef:
    evse = c.get("evse") or {}
    return ComponentRef(c["name"], c.get("instance"), evse.get("id"), evse.get("connectorId"))


def variable_ref(item: dict[str, Any]) -> VariableRef:
    """The VariableRef of a wire item with ``component`` and ``variable``."""
    v = item["variable"]
    return VariableRef(component_ref(item["component"]), v["name"], v.get("instance"))


def ref_to_wire(ref: VariableRef) -> dict[str, Any]:
    """``{component, variable}`` in wire spelling, absent parts left out."""
    c = ref.component
    component: dict[str, Any] = {"name": c.name}
    if c.instance is not None:
        component["instance"] = c.instance
    if c.evse_id is not None:
        component["evse"] = {"id": c.evse_id}
        if c.connector_id is not None:
            component["evse"]["connectorId"] = c.connector_id
    variable: dict[str, Any] = {"name": ref.name}
    if ref.instance is not None:
        variable["instance"] = ref.instance
    return {"component": component, "variable": variable}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def reported_variable(item: dict[str, Any]) -> ReportedVariable:
    """One ``reportData`` entry."""
    attributes = tuple(VariableAttribute(
        a.get("type", "Actual"), a.get("value"), a.get("mutability", "ReadWrite"),
        bool(a.get("persistent", False)), bool(a.get("constant", False)))
        for a in item.get("variableAttribute") or ())
    ch = item.get("variableCharacteristics")
    characteristics = None if ch is None else VariableCharacteristics(
        ch["dataType"], bool(ch.get("supportsMonitoring", False)), ch.get("unit"),
        _number(ch.get("minLimit")), _number(ch.get("maxLimit")), ch.get("valuesList"))
    return ReportedVariable(variable_ref(item), attributes, characteristics)


def notify_report(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    try:
        generated_at = parse_timestamp(p["generatedAt"], "generatedAt")
    except RemoteProtocolError as exc:
        raise InvalidReport(exc.description) from None
    items = [reported_variable(item) for item in p.get("reportData") or ()]
    ctx.writer.run(device_model.record_report, ctx.charger_id, p["requestId"], p["seqNo"],
                   bool(p.get("tbc", False)), items, now, generated_at)
    return {}


HANDLERS = {"NotifyReport": notify_report}


# Commands ----------------------------------------------------------------------------------

def _key(ref: VariableRef, attribute_type: str) -> tuple[str, str]:
    return ref.key, attribute_type


def variable_requests(action: str, request: dict[str, Any]) -> list[VariableRequest]:
    """The items of a GetVariables or SetVariables request."""
    field = "getVariableData" if action == "GetVariables" else "setVariableData"
    return [VariableRequest(variable_ref(item), item.get("attributeType", "Actual"),
                            item.get("attributeValue"))
            for item in request.get(field) or ()]


def variable_results(action: str, request: dict[str, Any],
                     response: dict[str, Any]) -> list[VariableResult]:
    """A GetVariables / SetVariables response as results. A Set result gets the value that was
    asked for from the request (the charger does not echo it)."""
    asked = {_key(r.ref, r.attribute_type): r.value for r in variable_requests(action, request)}
    field = "getVariableResult" if action == "GetVariables" else "setVariableResult"
    results = []
    for item in response.get(field) or ():
        ref = variable_ref(item)
        attribute_type = item.get("attributeType", "Actual")
        value = (item.get("attributeValue") if action == "GetVariables"
                 else asked.get(_key(ref, attribute_type)))
        reason = (item.get("attributeStatusInfo") or {}).get("reasonCode")
        results.append(VariableResult(ref, item["attributeStatus"], attribute_type, value,
                                      reason))
    return results


def request_to_wire(action: str, requests: Iterable[VariableRequest]) -> dict[str, Any]:
    """A GetVariables / SetVariables payload for ``requests``."""
    items = []
    for r in requests:
        item = ref_to_wire(r.ref)
        if r.attribute_type != "Actual":
            item["attributeType"] = r.attribute_type
        if action == "SetVariables":
            item["attributeValue"] = r.value if r.value is not None else ""
        items.append(item)
    return {("getVariableData" if action == "GetVariables" else "setVariableData"): items}


def variable_payloads(charger_id: int, action: str,
                      requests: list[VariableRequest]) -> list[dict[str, Any]]:
    """Get/SetVariables payloads for ``requests``, each within the charger's ItemsPerMessage."""
    n = device_model.items_per_message(charger_id, action)
    return [request_to_wire(action, part) for part in device_model.chunk(requests, n)]


def request_item_count(action: str, payload: dict[str, Any]) -> int:
    field = "getVariableData" if action == "GetVariables" else "setVariableData"
    items = payload.get(field)
    return len(items) if isinstance(items, list) else 0


def report_request(action: str, request: dict[str, Any],
                   response: dict[str, Any] | None) -> tuple[int, str, str | None]:
    """(requestId, report base, the charger's status) of a GetBaseReport / GetReport."""
    base = request.get("reportBase") if action == "GetBaseReport" else "Custom"
    return request["requestId"], base or "Custom", (response or {}).get("status")
