"""A 2.x charger's device model: its variables, their attributes, and reports in progress.

Shape, and why:
- ``device_variables``: one row per variable of a charger, keyed by (charger_id, key). ``key``
  is ``VariableRef.key``: component name and instance, EVSE, connector, variable name and
  instance, case-folded (OCPP names are case-insensitive) with absent parts empty. A single
  string key makes the upsert one ON CONFLICT on SQLite and PostgreSQL alike, where a unique
  index over nullable columns would let NULLs repeat. The parts are kept as reported, in their
  own columns, for search and display. The characteristics are 1:1 with the variable, so they
  are columns of this row. Everything is per charger: one charger's report can never overwrite
  another's characteristics (a flaw of a peer CSMS).
- ``device_variable_attributes``: up to four rows per variable (Actual, Target, MinSet,
  MaxSet), each with value, mutability, persistent and constant, and the latest Get/Set
  outcome. A child table rather than a JSON column so that a search by value, or "every
  ReadWrite Actual", is plain SQL on both backends, and a SetVariables result updates one row.
- ``device_reports`` and ``device_report_parts``: a NotifyReport series (requestId) and the
  seqNos received, so that a repeated part is recognised and the series is known complete when
  the last part (tbc false) and every seqNo before it are in.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


class DeviceVariable(db.Model):
    __tablename__ = "device_variables"
    __table_args__ = (
        UniqueConstraint("charger_id", "key", name="uq_device_variables_charger_key"),
        Index("ix_device_variables_component", "charger_id", "component_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    # Text: case folding can lengthen a name (ß -> ss), and a lenient charger's names may
    # exceed the schema's 50 characters; PostgreSQL would refuse an overlong String(n).
    key: Mapped[str] = mapped_column(Text)
    component_name: Mapped[str] = mapped_column(String(50))
    component_instance: Mapped[str | None] = mapped_column(String(50))
    evse_id: Mapped[int | None] = mapped_column(Integer)
    connector_id: Mapped[int | None] = mapped_column(Integer)
    variable_name: Mapped[str] = mapped_column(String(50))
    variable_instance: Mapped[str | None] = mapped_column(String(50))
    # Characteristics (null until a report brings them: a GetVariables result has none).
    data_type: Mapped[str | None] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(16))
    min_limit: Mapped[float | None] = mapped_column(Float)
    max_limit: Mapped[float | None] = mapped_column(Float)
    values_list: Mapped[str | None] = mapped_column(Text)
    supports_monitoring: Mapped[bool | None] = mapped_column(Boolean)
    # The report that last described it, and when the charger generated that message.
    report_request_id: Mapped[int | None] = mapped_column(Integer)
    reported_at = mapped_column(UTCDateTime)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)

    attributes: Mapped[list[DeviceVariableAttribute]] = relationship(
        back_populates="variable", order_by="DeviceVariableAttribute.id",
        cascade="all, delete-orphan")


class DeviceVariableAttribute(db.Model):
    __tablename__ = "device_variable_attributes"
    __table_args__ = (UniqueConstraint("variable_id", "type",
                                       name="uq_device_variable_attributes_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    variable_id: Mapped[int] = mapped_column(
        ForeignKey("device_variables.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(8))  # Actual | Target | MinSet | MaxSet
    value: Mapped[str | None] = mapped_column(Text)  # at most 2500 characters; None: WriteOnly
    # ReadOnly | WriteOnly | ReadWrite; None when only GetVariables has told us about it.
    mutability: Mapped[str | None] = mapped_column(String(9))
    persistent: Mapped[bool | None] = mapped_column(Boolean)
    constant: Mapped[bool | None] = mapped_column(Boolean)
    # The latest GetVariables/SetVariables outcome for this attribute (Accepted, Rejected,
    # RebootRequired, ...) and the charger's reason code.
    last_status: Mapped[str | None] = mapped_column(String(32))
    last_status_reason: Mapped[str | None] = mapped_column(String(20))
    last_status_at = mapped_column(UTCDateTime)
    # SetVariables answered RebootRequired: the value asked for, applied at the next reboot.
    pending_value: Mapped[str | None] = mapped_column(Text)
    updated_at = mapped_column(UTCDateTime, default=utcnow)

    variable: Mapped[DeviceVariable] = relationship(back_populates="attributes")


class DeviceReport(db.Model):
    """One NotifyReport series (GetBaseReport / GetReport requestId) of a charger."""

    __tablename__ = "device_reports"
    __table_args__ = (UniqueConstraint("charger_id", "request_id",
                                       name="uq_device_reports_charger_request"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(Integer)
    # Set when the report was asked for through a GetBaseReport / GetReport command.
    report_base: Mapped[str | None] = mapped_column(String(32))
    command_id: Mapped[int | None] = mapped_column(ForeignKey("commands.id",
                                                              ondelete="SET NULL"))
    # The charger's answer to that command (Accepted, Rejected, NotSupported, EmptyResultSet).
    request_status: Mapped[str | None] = mapped_column(String(32))
    parts_received: Mapped[int] = mapped_column(Integer, default=0)
    items_received: Mapped[int] = mapped_column(Integer, default=0)
    # The seqNo of the part with tbc false: the series has last_seq_no + 1 parts.
    last_seq_no: Mapped[int | None] = mapped_column(Integer)
    generated_at = mapped_column(UTCDateTime)  # of the first part received
    started_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    completed_at = mapped_column(UTCDateTime)


class DeviceReportPart(db.Model):
    __tablename__ = "device_report_parts"
    __table_args__ = (UniqueConstraint("report_id", "seq_no",
                                       name="uq_device_report_parts_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("device_reports.id", ondelete="CASCADE"))
    seq_no: Mapped[int] = mapped_column(Integer)
    tbc: Mapped[bool] = mapped_column(Boolean, default=False)
    items: Mapped[int] = mapped_column(Integer, default=0)
    generated_at = mapped_column(UTCDateTime)
    received_at = mapped_column(UTCDateTime, default=utcnow)
