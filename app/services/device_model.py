"""A 2.x charger's device model: what NotifyReport, GetVariables and SetVariables tell us.

Takes the domain values of ``device_model_values`` (the 2.x adapters build them from the wire)
and keeps ``models.device_model`` up to date, per charger:
- ``record_report`` stores one NotifyReport part. Parts may come in any order and a retried
  part (same requestId and seqNo) is stored once; the report is complete when the part with
  tbc false and every seqNo before it are in. Variables are upserted by ``VariableRef.key``.
- ``record_get_results`` / ``record_set_results`` store GetVariables / SetVariables outcomes:
  an Accepted read or write updates the attribute's value, RebootRequired keeps the value asked
  for as pending (``apply_pending_values`` makes it the value when the charger boots), and every
  other status is kept on the attribute of a variable we know.
  A result for a component or variable the charger does not know adds nothing to its model
  (the command's stored response still has it).
- ``items_per_message`` is the charger's DeviceDataCtrlr.ItemsPerMessage limit for a request,
  ``chunk`` splits request items to respect it.
- ``variables`` / ``reports`` build the queries the API lists; ``*_to_dict`` serialise.

Functions taking ``conn`` run on a SQLAlchemy Core connection (the group writer's, or the ORM
session's ``connection()`` in command effects).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from ..extensions import db
from ..models import DeviceReport, DeviceReportPart, DeviceVariable, DeviceVariableAttribute
from ..models.base import isoformat
from .device_model_values import (
    ReportedVariable,
    VariableAttribute,
    VariableCharacteristics,
    VariableRef,
    VariableResult,
)
from .errors import InvalidReport
from .sql import fit_strings

variables_t = DeviceVariable.__table__
attributes_t = DeviceVariableAttribute.__table__
reports_t = DeviceReport.__table__
parts_t = DeviceReportPart.__table__

# What a request may hold when the charger has not reported DeviceDataCtrlr.ItemsPerMessage:
# small enough for any charger we have met, and never more than one round trip per item.
DEFAULT_ITEMS_PER_MESSAGE = 4
# Beyond this a seqNo is not a report part but a broken counter: refuse it rather than wait
# for parts that will never come.
MAX_SEQ_NO = 100_000

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReportProgress:
    """Where a NotifyReport series stands after one part."""

    request_id: int
    parts_received: int
    complete: bool
    duplicate: bool = False


def _insert(conn: Connection):
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


# Reports -----------------------------------------------------------------------------------

def record_report(conn: Connection, charger_id: int, request_id: int, seq_no: int, tbc: bool,
                  items: Sequence[ReportedVariable], now: datetime,
                  generated_at: datetime | None = None) -> ReportProgress:
    """Store one NotifyReport part and its variables; say where the series stands."""
    if not 0 <= seq_no <= MAX_SEQ_NO:
        raise InvalidReport(f"seqNo {seq_no} is out of range (0 to {MAX_SEQ_NO})")
    report = _report_row(conn, charger_id, request_id, now)
    if not tbc and report.last_seq_no is not None and report.last_seq_no != seq_no:
        raise InvalidReport(f"report {request_id} already ended at seqNo {report.last_seq_no}")
    last = seq_no if not tbc else report.last_seq_no
    if last is not None and seq_no > last:
        raise InvalidReport(f"report {request_id} ended at seqNo {last}; seqNo {seq_no} "
                            "cannot follow")
    inserted = conn.execute(_insert(conn)(parts_t).values(
        report_id=report.id, seq_no=seq_no, tbc=tbc, items=len(items),
        generated_at=generated_at, received_at=now,
    ).on_conflict_do_nothing(index_elements=["report_id", "seq_no"])).rowcount
    if not inserted:  # a retry of a part we have: its variables are stored already
        return ReportProgress(request_id, report.parts_received, report.completed_at is not None,
                              duplicate=True)
    for item in items:
        variable_id = _upsert_variable(conn, charger_id, item.ref, item.characteristics, now,
                                       request_id, generated_at)
        for attribute in item.attributes:
            _upsert_attribute(conn, variable_id, attribute, now)
    # Counted, not incremented: two parts of one series in one group commit stay right.
    parts = conn.execute(select(func.count()).where(parts_t.c.report_id == report.id)
                         ).scalar_one()
    complete = last is not None and conn.execute(select(func.count()).where(
        parts_t.c.report_id == report.id, parts_t.c.seq_no <= last)).scalar_one() == last + 1
    first_generated = report.generated_at
    if generated_at is not None and (first_generated is None or generated_at < first_generated):
        first_generated = generated_at
    conn.execute(update(reports_t).where(reports_t.c.id == report.id).values(
        parts_received=parts, items_received=reports_t.c.items_received + len(items),
        last_seq_no=last, generated_at=first_generated, updated_at=now,
        completed_at=(report.completed_at or now) if complete else None))
    return ReportProgress(request_id, parts, complete)


def _report_row(conn: Connection, charger_id: int, request_id: int, now: datetime):
    conn.execute(_insert(conn)(reports_t).values(
        charger_id=charger_id, request_id=request_id, parts_received=0, items_received=0,
        started_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["charger_id", "request_id"]))
    return conn.execute(select(reports_t).where(reports_t.c.charger_id == charger_id,
                                                reports_t.c.request_id == request_id)).one()


def report_requested(conn: Connection, charger_id: int, request_id: int, report_base: str,
                     command_id: int | None, status: str, now: datetime) -> None:
    """A GetBaseReport / GetReport command was answered ``status``: note it on its report."""
    _report_row(conn, charger_id, request_id, now)
    conn.execute(update(reports_t).where(reports_t.c.charger_id == charger_id,
                                         reports_t.c.request_id == request_id).values(
        report_base=report_base[:32], command_id=command_id, request_status=status[:32],
        updated_at=now))


# Variables and attributes ------------------------------------------------------------------

def _upsert_variable(conn: Connection, charger_id: int, ref: VariableRef,
                     characteristics: VariableCharacteristics | None, now: datetime,
                     request_id: int | None = None,
                     reported_at: datetime | None = None) -> int:
    c = ref.component
    values: dict[str, Any] = fit_strings(variables_t, {
        "charger_id": charger_id, "key": ref.key, "component_name": c.name,
        "component_instance": c.instance, "evse_id": c.evse_id, "connector_id": c.connector_id,
        "variable_name": ref.name, "variable_instance": ref.instance,
        "created_at": now, "updated_at": now,
    })
    # Only a report changes what is known of the variable's nature; a Get/Set result keeps it.
    changed = ["updated_at"]
    if characteristics is not None:
        values.update(fit_strings(variables_t, {
            "data_type": characteristics.data_type, "unit": characteristics.unit,
            "min_limit": characteristics.min_limit, "max_limit": characteristics.max_limit,
            "values_list": characteristics.values_list,
            "supports_monitoring": characteristics.supports_monitoring,
        }))
        changed += ["data_type", "unit", "min_limit", "max_limit", "values_list",
                    "supports_monitoring"]
    if request_id is not None:
        values.update(report_request_id=request_id, reported_at=reported_at or now)
        changed += ["report_request_id", "reported_at"]
    stmt = _insert(conn)(variables_t).values(**values)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["charger_id", "key"], set_={k: stmt.excluded[k] for k in changed}))
    return conn.execute(select(variables_t.c.id).where(
        variables_t.c.charger_id == charger_id, variables_t.c.key == ref.key)).scalar_one()


def _upsert_attribute(conn: Connection, variable_id: int, attribute: VariableAttribute,
                      now: datetime) -> None:
    values = fit_strings(attributes_t, {
        "variable_id": variable_id, "type": attribute.type, "value": attribute.value,
        "mutability": attribute.mutability, "persistent": attribute.persistent,
        "constant": attribute.constant, "updated_at": now,
    })
    stmt = _insert(conn)(attributes_t).values(**values)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["variable_id", "type"],
        set_={k: stmt.excluded[k] for k in values if k not in ("variable_id", "type")}))


def _variable_id(conn: Connection, charger_id: int, ref: VariableRef) -> int | None:
    return conn.execute(select(variables_t.c.id).where(
        variables_t.c.charger_id == charger_id, variables_t.c.key == ref.key)).scalar()


def _set_attribute(conn: Connection, variable_id: int, attribute_type: str,
                   values: dict[str, Any]) -> None:
    values = fit_strings(attributes_t, {"variable_id": variable_id, "type": attribute_type,
                                        **values})
    stmt = _insert(conn)(attributes_t).values(**values)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["variable_id", "type"],
        set_={k: stmt.excluded[k] for k in values if k not in ("variable_id", "type")}))


# A result for something the charger does not have adds nothing to its model.
_UNKNOWN = ("UnknownComponent", "UnknownVariable")


def record_get_results(conn: Connection, charger_id: int, results: Iterable[VariableResult],
                       now: datetime) -> int:
    """Store GetVariables results; return how many attributes were updated."""
    stored = 0
    for result in results:
        status = {"last_status": result.status, "last_status_reason": result.reason,
                  "last_status_at": now, "updated_at": now}
        if result.status == "Accepted":
            variable_id = _upsert_variable(conn, charger_id, result.ref, None, now)
            _set_attribute(conn, variable_id, result.attribute_type,
                           {"value": result.value, **status})
        elif result.status in _UNKNOWN:
            continue
        else:
            variable_id = _variable_id(conn, charger_id, result.ref)
            if variable_id is None:
                continue
            _set_attribute(conn, variable_id, result.attribute_type, status)
        stored += 1
    return stored


def record_set_results(conn: Connection, charger_id: int, results: Iterable[VariableResult],
                       now: datetime) -> int:
    """Store SetVariables results (``value``: what was asked for); return how many attributes
    were updated."""
    stored = 0
    for result in results:
        if result.status in _UNKNOWN:
            continue
        status: dict[str, Any] = {"last_status": result.status,
                                  "last_status_reason": result.reason,
                                  "last_status_at": now, "updated_at": now}
        if result.status == "Accepted":
            variable_id = _upsert_variable(conn, charger_id, result.ref, None, now)
            status.update(value=result.value, pending_value=None)
        else:
            variable_id = _variable_id(conn, charger_id, result.ref)
            if variable_id is None:
                if result.status != "RebootRequired":
                    continue
                variable_id = _upsert_variable(conn, charger_id, result.ref, None, now)
            if result.status == "RebootRequired":
                # Applied at the next reboot; until then the charger still runs the old value.
                status["pending_value"] = result.value
        _set_attribute(conn, variable_id, result.attribute_type, status)
        stored += 1
    return stored



def apply_pending_values(conn: Connection, charger_id: int, now: datetime) -> int:
    """The charger has booted: the values it answered RebootRequired for are now in force.
    Return how many attributes changed."""
    attributes = DeviceVariableAttribute.__table__
    variables = DeviceVariable.__table__
    mine = select(variables.c.id).where(variables.c.charger_id == charger_id)
    return conn.execute(
        update(attributes)
        .where(attributes.c.variable_id.in_(mine.scalar_subquery()),
               attributes.c.pending_value.is_not(None))
        .values(value=attributes.c.pending_value, pending_value=None, updated_at=now)
    ).rowcount or 0

# Limits ------------------------------------------------------------------------------------

def reported_items_per_message(charger_id: int, action: str = "GetVariables") -> int | None:
    """DeviceDataCtrlr.ItemsPerMessage for ``action`` (GetVariables, SetVariables, GetReport)
    as the charger last reported it, or None. Chargers spell it as the variable
    ``ItemsPerMessage`` with the action as instance (2.0.1 Part 2) or as one variable
    ``ItemsPerMessage<action>``; both are read."""
    stmt = (select(DeviceVariableAttribute.value)
            .join(DeviceVariable, DeviceVariable.id == DeviceVariableAttribute.variable_id)
            .where(DeviceVariable.charger_id == charger_id,
                   func.lower(DeviceVariable.component_name) == "devicedatactrlr",
                   DeviceVariableAttribute.type == "Actual",
                   or_(and_(func.lower(DeviceVariable.variable_name) == "itemspermessage",
                            func.lower(DeviceVariable.variable_instance) == action.lower()),
                       func.lower(DeviceVariable.variable_name)
                       == f"itemspermessage{action.lower()}")))
    for value in db.session.execute(stmt).scalars():
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            continue
        if number > 0:
            return number
    return None


def items_per_message(charger_id: int, action: str = "GetVariables") -> int:
    """How many items one ``action`` request to the charger may hold: what it reported, else
    ``DEFAULT_ITEMS_PER_MESSAGE``."""
    return reported_items_per_message(charger_id, action) or DEFAULT_ITEMS_PER_MESSAGE


def chunk(items: Sequence[T], n: int) -> list[list[T]]:
    """``items`` in order, in lists of at most ``n`` (n >= 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return [list(items[i:i + n]) for i in range(0, len(items), n)]


# Queries for the API -----------------------------------------------------------------------

def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def variables(charger_id: int, component: str | None = None, variable: str | None = None,
              q: str | None = None) -> Select:
    """A charger's variables, by component then variable; ``component`` and ``variable`` match
    names ignoring case, ``q`` is a substring of a name, an instance or a value."""
    stmt = select(DeviceVariable).where(DeviceVariable.charger_id == charger_id)
    if component:
        stmt = stmt.where(func.lower(DeviceVariable.component_name) == component.lower())
    if variable:
        stmt = stmt.where(func.lower(DeviceVariable.variable_name) == variable.lower())
    if q:
        pattern = _like(q)
        stmt = stmt.where(or_(
            *(func.lower(column).like(pattern, escape="\\") for column in (
                DeviceVariable.component_name, DeviceVariable.component_instance,
                DeviceVariable.variable_name, DeviceVariable.variable_instance)),
            exists().where(DeviceVariableAttribute.variable_id == DeviceVariable.id,
                           func.lower(DeviceVariableAttribute.value).like(pattern,
                                                                          escape="\\"))))
    return stmt.order_by(DeviceVariable.component_name, DeviceVariable.component_instance,
                         DeviceVariable.evse_id, DeviceVariable.connector_id,
                         DeviceVariable.variable_name, DeviceVariable.variable_instance,
                         DeviceVariable.id)


def reports(charger_id: int) -> Select:
    """A charger's reports, newest first."""
    return select(DeviceReport).where(DeviceReport.charger_id == charger_id).order_by(
        DeviceReport.started_at.desc(), DeviceReport.id.desc())


def variable_to_dict(v: DeviceVariable) -> dict[str, Any]:
    return {
        "component": {"name": v.component_name, "instance": v.component_instance,
                      "evse_id": v.evse_id, "connector_id": v.connector_id},
        "variable": {"name": v.variable_name, "instance": v.variable_instance},
        "attributes": [{
            "type": a.type, "value": a.value, "mutability": a.mutability,
            "persistent": a.persistent, "constant": a.constant,
            "last_status": a.last_status, "last_status_reason": a.last_status_reason,
            "last_status_at": isoformat(a.last_status_at), "pending_value": a.pending_value,
            "updated_at": isoformat(a.updated_at),
        } for a in v.attributes],
        "characteristics": None if v.data_type is None and v.supports_monitoring is None else {
            "data_type": v.data_type, "unit": v.unit, "min_limit": v.min_limit,
            "max_limit": v.max_limit, "values_list": v.values_list,
            "supports_monitoring": v.supports_monitoring,
        },
        "report_request_id": v.report_request_id,
        "reported_at": isoformat(v.reported_at),
        "updated_at": isoformat(v.updated_at),
    }


def report_to_dict(r: DeviceReport) -> dict[str, Any]:
    return {
        "request_id": r.request_id, "report_base": r.report_base, "command_id": r.command_id,
        "request_status": r.request_status, "parts_received": r.parts_received,
        "items_received": r.items_received,
        "parts_expected": None if r.last_seq_no is None else r.last_seq_no + 1,
        "complete": r.completed_at is not None,
        "generated_at": isoformat(r.generated_at), "started_at": isoformat(r.started_at),
        "updated_at": isoformat(r.updated_at), "completed_at": isoformat(r.completed_at),
    }

